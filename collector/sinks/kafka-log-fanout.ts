/**
 * Fan-out over the Kafka log: one KafkaLogRunner per configured sink, each
 * a member of its own consumer group, so every sink reads the whole topic
 * at its own pace and a slow or failing sink holds up no other and never
 * ingest (which only produces). The Kafka counterpart of fanout.ts, which
 * keeps one runner per (sink, tenant) over the embedded log: here tenants
 * share the topic and each record names its own.
 */
import { ConfigError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { isValidTenant } from "../log/format.ts";
import { KafkaLogRunner, type KafkaLogRunnerStatus } from "./kafka-log-runner.ts";
import type { SinkRunnerLimits } from "./runner.ts";
import type { Sink } from "./types.ts";

export interface KafkaLogFanoutOptions {
  sinks: readonly Sink[];
  brokers: readonly string[];
  topic: string;
  timeoutMs: number;
  sessionTimeoutMs: number;
  dataDirectory: string;
  logger: Logger;
  limits?: Partial<SinkRunnerLimits>;
}

export class KafkaLogFanout {
  private readonly runners: KafkaLogRunner[];

  /** Checks sink names (pure; throws ConfigError): they name consumer groups and dead-letter directories. */
  constructor(options: KafkaLogFanoutOptions) {
    const names = new Set<string>();
    for (const sink of options.sinks) {
      if (!isValidTenant(sink.name)) throw new ConfigError(`sink name ${JSON.stringify(sink.name)} cannot be used as a directory name`);
      if (names.has(sink.name)) throw new ConfigError(`two sinks are named ${JSON.stringify(sink.name)}`);
      names.add(sink.name);
    }
    const { sinks, ...shared } = options;
    this.runners = sinks.map((sink) => new KafkaLogRunner({ ...shared, sink }));
  }

  /** Every runner starts joining its group in the background (Kafka being down is logged and retried, never thrown). */
  start(): void {
    for (const runner of this.runners) runner.start();
  }

  status(): KafkaLogRunnerStatus[] {
    return this.runners.map((runner) => runner.status());
  }

  /** Lets in-flight sends finish (committing what was delivered), then leaves the groups. */
  async close(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.close()));
  }

  /** Aborts in-flight sends; nothing unconfirmed is committed. */
  async destroy(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.destroy()));
  }
}
