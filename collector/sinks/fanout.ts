/**
 * Fan-out: one SinkRunner per (configured sink, tenant), each at its own
 * committed offset. With collector routes a "tenant" here is a log name
 * (a tenant's stream, collector/routing/streams.ts), and a sink gets
 * runners only for the streams it subscribes to (`subscriptions`). Runners for the tenants the log has at start open
 * first; a tenant that appears later (its first append) gets its runners
 * then. `lowestNeededOffset` is the log's retention hook: the lowest
 * committed offset of the tenant's runners (0 while they are opening;
 * a pending replay's offset counts); undefined with no sinks, so retention
 * behaves as without sinks.
 *
 * `replay` checks a replay request against the sinks and the log (sink
 * name, tenant, offset inside the log, or the first offset at or after a
 * time through the log's time index) and hands it to that runner, which
 * applies it between its own sends (runner.ts `rewind`).
 */
import { ConfigError, assert } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { isValidTenant } from "../log/format.ts";
import { streamOfLog } from "../routing/streams.ts";
import { ReplayError } from "./replay-error.ts";
import { SinkRunner, type SinkLog, type SinkRunnerLimits, type SinkRunnerStatus } from "./runner.ts";
import type { Sink } from "./types.ts";

export interface FanoutLog extends SinkLog {
  tenants(): string[];
  /** The oldest offset still stored (retention deletes from the front); the end offset when empty. */
  firstOffset(tenant: string): Promise<number>;
}

export interface ReplayRequest {
  sink: string;
  tenant: string;
  /**
   * From this offset, or from the first record whose observed max time is
   * at least `timeMs` (ms since the epoch); with the Kafka log, also from an
   * offset per partition (kafka-log-replay.ts).
   */
  from: { offset: number } | { timeMs: number } | { partitionOffsets: ReadonlyMap<number, number> };
}

export interface ReplayResult {
  sink: string;
  tenant: string;
  /** Where delivery starts again: the requested offset, or the one the time gave. */
  fromOffset: number;
  /** The committed offset before and after the replay (equal when the sink had not confirmed past `fromOffset`). */
  previousOffset: number;
  committedOffset: number;
  /** The log's end when the replay was applied. */
  endOffset: number;
  /** Events the sink gets again: previousOffset − committedOffset. */
  replayedEvents: number;
}

export interface SinkFanoutOptions {
  sinks: readonly Sink[];
  /** The streams a sink reads, by sink name (`sinks.<name>.streams`, docs/ROUTING.md); a sink not named here reads every stream. */
  subscriptions?: ReadonlyMap<string, readonly string[]>;
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
  private log: FanoutLog | null = null;

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
    this.log = log;
    this.unsubscribe = log.onAppend((tenant) => {
      if (!this.opening.has(tenant) && !this.closed) void this.openTenant(log, tenant).catch(() => undefined);
    });
    await Promise.all(log.tenants().map((tenant) => this.openTenant(log, tenant)));
  }

  /** The retention hook (EmbeddedLogOptions.lowestNeededOffset). */
  lowestNeededOffset(tenant: string): number | undefined {
    if (this.options.sinks.length === 0) return undefined;
    const runners = this.runners.get(tenant);
    if (runners === undefined) return this.sinksOf(tenant).length === 0 ? undefined : 0;
    if (runners.length === 0) return undefined;
    return Math.min(...runners.map((runner) => runner.neededOffset));
  }

  /** Names of the configured sinks, in config order. */
  sinkNames(): string[] {
    return this.options.sinks.map((sink) => sink.name);
  }

  /** Moves a runner's committed offset back (see the module comment). Rejects with ReplayError; resolves once the new offset is durable. */
  async replay(request: ReplayRequest): Promise<ReplayResult> {
    const names = this.sinkNames();
    if (!names.includes(request.sink)) {
      const known = names.length === 0 ? "this collector has no sinks" : `known sinks: ${names.join(", ")}`;
      throw new ReplayError("LOGSHIP_REPLAY_UNKNOWN_SINK", `unknown sink ${JSON.stringify(request.sink)}; ${known}`);
    }
    const log = this.log;
    assert(log !== null, "a fan-out with sinks is started before it replays");
    if (!log.tenants().includes(request.tenant)) {
      const tenants = log.tenants();
      const known = tenants.length === 0 ? "the log is empty" : `tenants with a log: ${tenants.join(", ")}`;
      throw new ReplayError("LOGSHIP_REPLAY_UNKNOWN_TENANT", `tenant ${JSON.stringify(request.tenant)} has no log on this collector; ${known}`);
    }
    if ("partitionOffsets" in request.from) {
      throw new ReplayError("LOGSHIP_REPLAY_REQUEST", "offsets per partition (PARTITION:OFFSET) are for the Kafka log; this collector's embedded log has one offset per tenant");
    }
    if (!this.sinksOf(request.tenant).some((sink) => sink.name === request.sink)) {
      throw new ReplayError("LOGSHIP_REPLAY_UNKNOWN_SINK", `sink ${request.sink} does not read stream ${streamOfLog(request.tenant)} (its streams: ${this.options.subscriptions?.get(request.sink)?.join(", ")})`);
    }
    if (!this.closed) await this.openTenant(log, request.tenant).catch(() => undefined);
    const runner = this.runners.get(request.tenant)?.find((candidate) => candidate.sink.name === request.sink);
    if (runner === undefined || this.closed) {
      throw new ReplayError("LOGSHIP_REPLAY_UNAVAILABLE", `the sink runners of tenant ${request.tenant} are not running (see the collector's log)`);
    }
    const fromOffset = "offset" in request.from ? request.from.offset : await this.offsetAtTime(log, request.tenant, request.from.timeMs);
    const endOffset = log.endOffset(request.tenant);
    if (fromOffset > endOffset) {
      throw new ReplayError("LOGSHIP_REPLAY_OFFSET_BEYOND_END", `offset ${fromOffset} is beyond the end of tenant ${request.tenant}'s log (its next offset is ${endOffset})`);
    }
    const firstOffset = await log.firstOffset(request.tenant);
    if (fromOffset < firstOffset) {
      throw new ReplayError("LOGSHIP_REPLAY_OFFSET_DELETED", `offset ${fromOffset} was deleted by retention; tenant ${request.tenant}'s log starts at offset ${firstOffset}`);
    }
    // The runner logs the move when it applies it.
    const rewound = await runner.rewind(fromOffset);
    return {
      sink: request.sink,
      tenant: request.tenant,
      fromOffset,
      previousOffset: rewound.previousOffset,
      committedOffset: rewound.committedOffset,
      endOffset: log.endOffset(request.tenant),
      replayedEvents: rewound.previousOffset - rewound.committedOffset,
    };
  }

  /** The base offset of the first record whose observed max is at least `timeMs` (the time index finds it); the end when none is. */
  private async offsetAtTime(log: FanoutLog, tenant: string, timeMs: number): Promise<number> {
    for await (const entry of log.read(tenant, { fromTimeMs: timeMs })) return entry.header.baseOffset;
    return log.endOffset(tenant);
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

  /** The sinks that read a log: those subscribed to its stream. */
  private sinksOf(log: string): readonly Sink[] {
    const stream = streamOfLog(log);
    return this.options.sinks.filter((sink) => this.options.subscriptions?.get(sink.name)?.includes(stream) ?? true);
  }

  private openTenant(log: FanoutLog, tenant: string): Promise<void> {
    let opening = this.opening.get(tenant);
    if (opening !== undefined) return opening;
    opening = (async () => {
      const runners = await Promise.all(
        this.sinksOf(tenant).map((sink) =>
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
