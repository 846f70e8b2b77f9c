/**
 * The Kafka log backend, write side (`log.backend: kafka`): each accepted
 * batch becomes one record of `log.kafka.topic` (record.ts; with collector
 * routes, each stream's part a record of that stream's topic,
 * `<topic>.<stream>`, docs/ROUTING.md), produced by an
 * idempotent producer with acks=all, and `append` resolves only once the
 * broker acknowledged it, i.e. once every in-sync replica holds it. That is
 * the durability boundary ingest acknowledges at, as with the embedded
 * log's fdatasync. The read side is the sink runners' consumer groups
 * (collector/sinks/kafka-log-runner.ts).
 *
 * Failures (docs/KAFKA.md, "What each failure does"):
 * - Kafka unreachable, timing out, without a leader or enough in-sync
 *   replicas, or the topic missing: `append` rejects with
 *   LOGSHIP_LOG_UNAVAILABLE (ingest answers 503 with Retry-After, the agent
 *   keeps the batch and tries again), the log turns unwritable (/readyz 503)
 *   and a probe asks for the topic's metadata every PROBE_INTERVAL_MS until
 *   Kafka answers. One error line when it starts, a reminder every
 *   REMINDER_INTERVAL_MS, one info line when it ends.
 * - A batch larger than the topic accepts (`max.message.bytes`): rejects with
 *   LOGSHIP_LOG_RECORD_TOO_LARGE (ingest answers 413); nothing else changes.
 *   `open` warns when `ingest.max_body_bytes` allows such batches.
 *
 * Every produce ends in bounded time (each broker request at most
 * `timeoutMs`, collector/kafka/client.ts; a new try only after a broker
 * answered with a passing error), so an ingest request never waits on
 * Kafka for long and no abandoned produce is left running behind an
 * answered request.
 */
import { Admin, ConfigResourceTypes, type ProduceResult, type Producer } from "@platformatic/kafka";
import { assert } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logger.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { RETRY_DELAY_MS, baseClientOptions, createProducer, type KafkaClientSettings } from "../../kafka/client.ts";
import { brokerSaidRetry, describeKafkaError, kafkaFailureKind } from "../../kafka/errors.ts";
import { LogError } from "../errors.ts";
import type { AppendInput, Appended } from "../tenant-log.ts";
import { streamOfLog, tenantOfLog } from "../../routing/streams.ts";
import { encodeRecord, streamTopic } from "./record.ts";

export interface KafkaLogOptions {
  brokers: readonly string[];
  topic: string;
  /** Per broker request. */
  timeoutMs: number;
  /** `ingest.max_body_bytes`: checked against the topic's `max.message.bytes` at open. */
  batchBytesMax: number;
  logger: Logger;
  /** How often an unwritable log asks Kafka again. */
  probeIntervalMs?: number;
}

export interface KafkaLogStats {
  produced: number;
  producedBytes: number;
  /** Appends refused because Kafka could not take them (503). */
  unavailable: number;
  /** Appends refused because the batch is over the topic's record size limit (413). */
  tooLarge: number;
}

/** Records and bytes this collector produced to one topic (a stream's), since it started: the producer side of the log's size (/metrics). */
export interface ProducedToTopic {
  topic: string;
  records: number;
  bytes: number;
}

/**
 * No retries inside the client: they nest (each retry of a produce retries
 * its metadata too), so 2 would mean up to 9 × `timeoutMs` against a broker
 * that does not answer. `append` tries again itself, only when a broker
 * answered with a passing error (ANSWERED_RETRIES); otherwise a failed try is
 * a 503 and the agent retries.
 */
const PRODUCE_RETRIES = 0;
/** Further tries of a produce a broker answered with a passing error (coordinator loading, leader moving), RETRY_DELAY_MS × n apart. */
const ANSWERED_RETRIES = 3;
/** Metadata tries at open beyond the first (RETRY_DELAY_MS apart): at most (1 + this) × `timeoutMs` before starting unready. */
const OPEN_PROBE_RETRIES = 3;
const PROBE_INTERVAL_MS = 2000;
const REMINDER_INTERVAL_MS = 30_000;
/** Bytes a record adds to its value: key, headers and record framing (generous). */
const RECORD_OVERHEAD_BYTES = 1024;

export class KafkaLog {
  readonly topic: string;
  private readonly options: KafkaLogOptions;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private healthy = false;
  private closed = false;
  /** Since when Kafka could not be written; null while healthy. */
  private unavailableSinceMs: number | null = null;
  private lastReminderMs = 0;
  private refusedSinceUnavailable = 0;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private lastProbeError = "";
  private readonly counters: KafkaLogStats = { produced: 0, producedBytes: 0, unavailable: 0, tooLarge: 0 };
  /** Per topic; bounded: the topics are the log topic and one per routed stream (config). */
  private readonly producedByTopic = new Map<string, ProducedToTopic>();

  private constructor(options: KafkaLogOptions) {
    this.options = options;
    this.topic = options.topic;
    this.producer = createProducer({ ...this.settings("logship-log"), compression: "none" });
  }

  /**
   * Creates the producer and asks Kafka for the topic. Never fails because
   * of Kafka: when it cannot be reached the log starts unwritable (logged)
   * and becomes writable when the probe first succeeds.
   */
  static async open(options: KafkaLogOptions): Promise<KafkaLog> {
    const log = new KafkaLog(options);
    // A topic created a moment ago may have no leader yet: a few tries before calling it unreachable.
    if (await log.probe(OPEN_PROBE_RETRIES)) {
      log.healthy = true;
      options.logger.info("kafka log: connected", { brokers: options.brokers, topic: options.topic });
      await log.checkRecordSizeLimit();
    } else {
      log.becomeUnavailable(log.lastProbeError, "kafka log: cannot reach the topic at start; ingest answers 503 until it can");
    }
    return log;
  }

  /** True while open and the last produce (or probe) succeeded: /readyz. */
  get writable(): boolean {
    return !this.closed && this.healthy;
  }

  stats(): KafkaLogStats {
    return { ...this.counters };
  }

  /** What this collector produced, per topic it produced to. */
  producedTopics(): ProducedToTopic[] {
    return [...this.producedByTopic.values()].map((entry) => ({ ...entry }));
  }

  /**
   * Produces the batch; resolves once Kafka acknowledged it (acks=all) with
   * the record's offset in its partition as `baseOffset`. Rejects with
   * LogError: LOGSHIP_LOG_UNAVAILABLE, LOGSHIP_LOG_RECORD_TOO_LARGE, LOGSHIP_LOG_CLOSED.
   */
  async append(log: string, input: AppendInput): Promise<Appended> {
    if (this.closed) throw new LogError("LOGSHIP_LOG_CLOSED", "the log is closed");
    // A log name: the tenant's default stream goes to the log topic, another stream to its own (collector/routing/streams.ts).
    const tenant = tenantOfLog(log);
    const stream = streamOfLog(log);
    const record = encodeRecord(streamTopic(this.topic, stream), tenant, input, stream);
    let result: ProduceResult;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await this.producer.send({ messages: [record] });
        break;
      } catch (error) {
        if (attempt >= ANSWERED_RETRIES || this.closed || !brokerSaidRetry(error)) throw this.refused(error, log, input);
        await sleep(RETRY_DELAY_MS * (attempt + 1));
      }
    }
    const written = result.offsets?.[0];
    assert(written !== undefined, "an acks=all produce reports the offset it wrote");
    this.counters.produced++;
    this.counters.producedBytes += input.batch.length;
    const topicTotals = this.producedByTopic.get(record.topic) ?? { topic: record.topic, records: 0, bytes: 0 };
    topicTotals.records++;
    topicTotals.bytes += input.batch.length;
    this.producedByTopic.set(record.topic, topicTotals);
    if (!this.healthy) this.becomeAvailable("a batch was produced");
    return { baseOffset: Number(written.offset), events: input.events };
  }

  /** Stops probing and closes the producer (in-flight produces finish first: the server drains before this). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    try {
      await this.producer.close();
    } catch (error) {
      this.options.logger.warn("kafka log: closing the producer failed", { error: describeKafkaError(error) });
    }
  }

  private settings(clientId: string): KafkaClientSettings {
    return { clientId, brokers: this.options.brokers, timeoutMs: this.options.timeoutMs, retries: PRODUCE_RETRIES };
  }

  private refused(error: unknown, tenant: string, input: AppendInput): LogError {
    const reason = describeKafkaError(error);
    if (kafkaFailureKind(error) === "too-large") {
      this.counters.tooLarge++;
      this.options.logger.warn("kafka log: a batch is larger than the topic accepts; refused with 413", { tenant, agent: input.agent, seq: input.seq, bytes: input.batch.length, topic: this.topic, error: reason });
      return new LogError("LOGSHIP_LOG_RECORD_TOO_LARGE", `the batch (${input.batch.length} bytes) is larger than Kafka topic ${this.topic} accepts (its max.message.bytes); send smaller batches`, { cause: error });
    }
    this.counters.unavailable++;
    if (this.healthy) this.becomeUnavailable(reason, "kafka log: cannot produce to Kafka; ingest answers 503 until it can");
    this.refusedSinceUnavailable++;
    return new LogError("LOGSHIP_LOG_UNAVAILABLE", `Kafka did not acknowledge the batch: ${reason}`, { cause: error });
  }

  /** A metadata round trip for the topic (tried `retries` more times); false (reason in `lastProbeError`) when it fails. */
  private async probe(retries = 0): Promise<boolean> {
    try {
      await this.producer.metadata({ topics: [this.topic], forceUpdate: true, retries });
      return true;
    } catch (error) {
      this.lastProbeError = describeKafkaError(error);
      return false;
    }
  }

  private becomeUnavailable(reason: string, message: string): void {
    this.healthy = false;
    this.unavailableSinceMs = Date.now();
    this.lastReminderMs = this.unavailableSinceMs;
    this.refusedSinceUnavailable = 0;
    this.options.logger.error(message, { brokers: this.options.brokers, topic: this.topic, error: reason });
    this.scheduleProbe();
  }

  private becomeAvailable(how: string): void {
    this.healthy = true;
    const unavailableMs = this.unavailableSinceMs === null ? 0 : Date.now() - this.unavailableSinceMs;
    this.options.logger.info("kafka log: Kafka answers again; ingest accepts batches", { topic: this.topic, how, unavailable_ms: unavailableMs, refused_batches: this.refusedSinceUnavailable });
    this.unavailableSinceMs = null;
  }

  private scheduleProbe(): void {
    if (this.closed || this.probing) return;
    this.probing = true;
    this.probeTimer = setTimeout(() => void this.probeUntilHealthy(), this.options.probeIntervalMs ?? PROBE_INTERVAL_MS);
    this.probeTimer.unref();
  }

  private async probeUntilHealthy(): Promise<void> {
    this.probing = false;
    if (this.closed || this.healthy) return;
    if (await this.probe()) {
      if (!this.healthy && !this.closed) this.becomeAvailable("the topic's metadata answered");
      return;
    }
    const nowMs = Date.now();
    if (nowMs - this.lastReminderMs >= REMINDER_INTERVAL_MS) {
      this.lastReminderMs = nowMs;
      this.options.logger.warn("kafka log: Kafka still cannot be written; ingest answers 503", {
        topic: this.topic,
        unavailable_ms: nowMs - (this.unavailableSinceMs ?? nowMs),
        refused_batches: this.refusedSinceUnavailable,
        error: this.lastProbeError,
      });
    }
    this.scheduleProbe();
  }

  /** Warns when the topic's record size limit is below what ingest accepts (such batches would get 413). */
  private async checkRecordSizeLimit(): Promise<void> {
    const admin = new Admin(baseClientOptions(this.settings("logship-log-admin")));
    try {
      const [description] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: this.topic, configurationKeys: ["max.message.bytes"] }] });
      const limit = Number(description?.configs.find((config) => config.name === "max.message.bytes")?.value);
      if (Number.isSafeInteger(limit) && limit < this.options.batchBytesMax + RECORD_OVERHEAD_BYTES) {
        this.options.logger.warn("kafka log: the topic accepts smaller records than ingest.max_body_bytes allows; larger batches will be refused with 413", {
          topic: this.topic,
          max_message_bytes: limit,
          max_body_bytes: this.options.batchBytesMax,
        });
      }
    } catch (error) {
      this.options.logger.warn("kafka log: cannot read the topic's max.message.bytes (not checked against ingest.max_body_bytes)", { topic: this.topic, error: describeKafkaError(error) });
    } finally {
      await admin.close().catch((error: unknown) => this.options.logger.debug("kafka log: closing the admin client failed", { error: describeKafkaError(error) }));
    }
  }
}
