/**
 * The `kafka` sink: forwards events to a Kafka topic (`sinks.kafka`), one
 * record per event (records.ts), with an idempotent producer and acks=all.
 * One attempt per send; the runner owns retries (types.ts). Outcomes:
 *
 *   delivered  Kafka acknowledged every record of the send.
 *   retry      Kafka could not take them now (down, timing out, no leader,
 *              not enough in-sync replicas, topic missing or not
 *              authorised): logged here; the runner sends the same events
 *              again after a backoff.
 *   reject     events Kafka can never take: a record over the topic's
 *              `max.message.bytes`, or records the broker refuses as
 *              invalid. The rest of the send is still produced; the reason
 *              says which events were refused and how many went through
 *              (the runner dead-letters the whole send, so those appear in
 *              both places).
 *
 * A request refused as too large while it holds several records means the
 * topic's limit is below REQUEST_BYTES_MAX: from then on the sink sends at
 * most half that request's bytes per request (logged) and goes on; only a
 * single record can be too large for good. Kafka judges each partition of a request on its own, so
 * the refused request's other partitions may already hold their events:
 * they are then in the topic twice.
 *
 * Idempotence: the producer is idempotent (the broker drops a resent copy
 * of a request it already wrote), but a send the runner repeats (after a
 * retry outcome, a crash or a rebalance) is new to Kafka and may put an
 * event into the topic again. Every record
 * carries the event id (`logship.id` header) for consumers to deduplicate.
 */
import type { CompressionAlgorithmValue, Producer } from "@platformatic/kafka";
import type { Logger } from "../../../shared/logger.ts";
import { createProducer } from "../../kafka/client.ts";
import { describeKafkaError, kafkaFailureKind } from "../../kafka/errors.ts";
import type { SendOutcome, Sink, SinkEvent } from "../types.ts";
import { DEFAULT_STREAM } from "../../routing/streams.ts";
import { REQUEST_BYTES_MAX, eventRecord, nextRequest } from "./records.ts";

export interface KafkaSinkOptions {
  brokers: readonly string[];
  /** A topic, or a template with `{stream}` (the event's stream, docs/ROUTING.md). */
  topic: string;
  compression: CompressionAlgorithmValue;
  /** Per broker request. */
  timeoutMs: number;
  logger: Logger;
}

/** Refused events named in a reject reason at most. */
const NAMED_IN_REASON_MAX = 5;
/** Requests never shrink below this (a record larger than a request still goes alone). */
const REQUEST_BYTES_MIN = 1024;

export class KafkaSink implements Sink {
  readonly name = "kafka";
  private readonly options: KafkaSinkOptions;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  /** Record bytes per produce request; lowered when the topic refuses a request as too large. */
  private requestBytesMax = REQUEST_BYTES_MAX;

  constructor(options: KafkaSinkOptions) {
    this.options = options;
    // One try per request: the runner's backoff is the retry policy.
    this.producer = createProducer({ clientId: "logship-sink-kafka", brokers: options.brokers, timeoutMs: options.timeoutMs, retries: 0, compression: options.compression });
  }

  async send(events: SinkEvent[], signal: AbortSignal): Promise<SendOutcome> {
    const records = events.map((event) => eventRecord(eventTopic(this.options.topic, event), event));
    const refused: { event: SinkEvent; why: string }[] = [];
    for (let start = 0; start < records.length; ) {
      signal.throwIfAborted();
      const request = nextRequest(records, start, this.requestBytesMax);
      try {
        await abortable(this.producer.send({ messages: records.slice(start, request.end) }), signal);
        start = request.end;
        continue;
      } catch (error) {
        signal.throwIfAborted();
        const kind = kafkaFailureKind(error);
        if (kind === "too-large" && request.end - start > 1) {
          this.shrinkRequests(request.bytes, error);
          continue;
        }
        if (kind === "unavailable") {
          const reason = describeKafkaError(error);
          this.options.logger.warn("kafka sink: Kafka did not acknowledge the events; they are sent again after a backoff", { topic: this.options.topic, events: events.length, error: reason });
          return { kind: "retry", reason: `Kafka topic ${this.options.topic}: ${reason}` };
        }
        const why = kind === "too-large" ? `${request.bytes} bytes, over the topic's max.message.bytes` : `refused by the broker: ${describeKafkaError(error)}`;
        for (let index = start; index < request.end; index++) refused.push({ event: events[index] as SinkEvent, why });
        start = request.end;
      }
    }
    return refused.length === 0 ? { kind: "delivered" } : { kind: "reject", reason: this.rejectReason(refused, events.length) };
  }

  /**
   * The topic refused a request of `bytes` as too large: from now on this
   * sink sends at most half that per request. The partitions of the refused
   * request that Kafka did take now hold those events twice (consumers
   * deduplicate by id); later sends fit.
   */
  private shrinkRequests(bytes: number, error: unknown): void {
    this.requestBytesMax = Math.max(REQUEST_BYTES_MIN, Math.floor(bytes / 2));
    this.options.logger.warn("kafka sink: the topic refused a request as too large; sending smaller requests from now on", {
      topic: this.options.topic,
      refused_bytes: bytes,
      request_bytes_max: this.requestBytesMax,
      error: describeKafkaError(error),
    });
  }

  /** Closes the producer (after the runners stopped: nothing is in flight). */
  async close(): Promise<void> {
    await this.producer.close();
  }

  private rejectReason(refused: { event: SinkEvent; why: string }[], total: number): string {
    const named = refused.slice(0, NAMED_IN_REASON_MAX).map(({ event, why }) => `${event.id} (${why})`);
    const more = refused.length > NAMED_IN_REASON_MAX ? ` and ${refused.length - NAMED_IN_REASON_MAX} more` : "";
    return `Kafka topic ${this.options.topic} refused ${refused.length} of ${total} events: ${named.join(", ")}${more}; the other ${total - refused.length} were delivered`;
  }
}

/** `work`, or the abort's reason as soon as `signal` aborts (the request itself still ends in bounded time). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The topic of an event: `{stream}` in the template becomes its stream (the default stream's name when it has none). */
export function eventTopic(template: string, event: SinkEvent): string {
  return template.includes("{stream}") ? template.replaceAll("{stream}", event.stream ?? DEFAULT_STREAM) : template;
}
