/**
 * Fan-out: one SinkRunner per (configured sink, tenant), each at its own
 * committed offset. Runners for the tenants the log has at start open
 * first; a tenant that appears later (its first append) gets its runners
 * then. `lowestNeededOffset` is the log's retention hook: the lowest
 * committed offset of the tenant's runners (0 while they are opening);
 * undefined with no sinks, so retention behaves as without sinks.
 */
import { ConfigError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { isValidTenant } from "../log/format.ts";
import { SinkRunner, type SinkLog, type SinkRunnerLimits, type SinkRunnerStatus } from "./runner.ts";
import type { Sink } from "./types.ts";

export interface FanoutLog extends SinkLog {
  tenants(): string[];
}

export interface SinkFanoutOptions {
  sinks: readonly Sink[];
  dataDirectory: string;
  logger: Logger;
  limits?: Partial<SinkRunnerLimits>;
  random?: () => number;
}

export class SinkFanout {
  private readonly options: SinkFanoutOptions;
  /** Per tenant: its runners once all are open. */
  private readonly runners = new Map<string, SinkRunner[]>();
  /** Per tenant: runners being opened (a tenant is here before it is in `runners`). */
  private readonly opening = new Map<string, Promise<void>>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  /** Checks sink names (pure; throws ConfigError). */
  constructor(options: SinkFanoutOptions) {
    const names = new Set<string>();
    for (const sink of options.sinks) {
      if (!isValidTenant(sink.name)) throw new ConfigError(`sink name ${JSON.stringify(sink.name)} cannot be used as a directory name`);
      if (names.has(sink.name)) throw new ConfigError(`two sinks are named ${JSON.stringify(sink.name)}`);
      names.add(sink.name);
    }
    this.options = options;
  }

  /** Opens and starts runners for every tenant of `log`, and for new tenants as they appear. Throws SinkStateError on an unreadable offset file. */
  async start(log: FanoutLog): Promise<void> {
    if (this.options.sinks.length === 0) return;
    this.unsubscribe = log.onAppend((tenant) => {
      if (!this.opening.has(tenant) && !this.closed) void this.openTenant(log, tenant).catch(() => undefined);
    });
    await Promise.all(log.tenants().map((tenant) => this.openTenant(log, tenant)));
  }

  /** The retention hook (EmbeddedLogOptions.lowestNeededOffset). */
  lowestNeededOffset(tenant: string): number | undefined {
    if (this.options.sinks.length === 0) return undefined;
    const runners = this.runners.get(tenant);
    if (runners === undefined) return 0;
    return Math.min(...runners.map((runner) => runner.committedOffset));
  }

  status(): SinkRunnerStatus[] {
    return [...this.runners.values()].flat().map((runner) => runner.status());
  }

  /** Lets in-flight sends finish (committing what was delivered), then stops every runner. */
  async close(): Promise<void> {
    await this.stop((runner) => runner.close());
  }

  /** Aborts in-flight sends and stops every runner; nothing unconfirmed is committed. */
  async destroy(): Promise<void> {
    await this.stop((runner) => runner.destroy());
  }

  private async stop(each: (runner: SinkRunner) => Promise<void>): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await Promise.allSettled(this.opening.values());
    await Promise.all([...this.runners.values()].flat().map(each));
  }

  private openTenant(log: FanoutLog, tenant: string): Promise<void> {
    let opening = this.opening.get(tenant);
    if (opening !== undefined) return opening;
    opening = (async () => {
      const runners = await Promise.all(
        this.options.sinks.map((sink) =>
          SinkRunner.open({
            sink,
            tenant,
            log,
            dataDirectory: this.options.dataDirectory,
            logger: this.options.logger,
            ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
            ...(this.options.random === undefined ? {} : { random: this.options.random }),
          }),
        ),
      );
      this.runners.set(tenant, runners);
      if (this.closed) return;
      for (const runner of runners) runner.start();
    })();
    opening.catch((error: unknown) => {
      this.options.logger.error("cannot open sink runners for a tenant", { tenant, error: error instanceof Error ? error.message : String(error) });
    });
    this.opening.set(tenant, opening);
    return opening;
  }
}
