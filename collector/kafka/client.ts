/**
 * How logship builds its @platformatic/kafka clients (docs/KAFKA.md says
 * why this client). Every producer is idempotent with acks=all (the broker
 * acknowledges only once every in-sync replica has the records) and
 * partitions keys with Java's murmur2 formula, so a key lands on the same
 * partition as it would from any Java producer, Kafka Streams or Connect.
 *
 * Bounded waiting: each broker request (connect, produce, fetch, commit)
 * times out after `timeoutMs`, and a failed operation is tried at most
 * `retries` more times, `RETRY_DELAY_MS` apart. So every call returns or
 * fails in bounded time; the caller decides what a failure means
 * (errors.ts).
 */
import { Producer, compatibilityPartitioner, type CompressionAlgorithmValue } from "@platformatic/kafka";
import { assert } from "../../shared/errors.ts";

export interface KafkaClientSettings {
  clientId: string;
  brokers: readonly string[];
  /** Per broker request, connecting included. */
  timeoutMs: number;
  /** Per request once connected, when it must differ from `timeoutMs` (a group join waits at the broker for the other members). */
  requestTimeoutMs?: number;
  /** Further tries of a failed operation inside the client (0: one try). */
  retries: number;
}

export const RETRY_DELAY_MS = 250;

/** The options every client takes. */
export function baseClientOptions(settings: KafkaClientSettings): {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  timeout: number;
  retries: number | false;
  retryDelay: number;
} {
  return {
    clientId: settings.clientId,
    bootstrapBrokers: [...settings.brokers],
    connectTimeout: settings.timeoutMs,
    // The client's own default is 30 s per request: a broker that accepts connections but never answers would hold ingest that long.
    requestTimeout: settings.requestTimeoutMs ?? settings.timeoutMs,
    // Sent to the broker: how long it may wait for the in-sync replicas of a produce.
    timeout: settings.timeoutMs,
    // The client turns `retries` ≤ 1 on an idempotent producer into "retry for ever"; `false` is how one says "one try".
    retries: settings.retries === 0 ? false : settings.retries,
    retryDelay: RETRY_DELAY_MS,
  };
}

/** An idempotent, acks=all producer of raw byte keys and values; topics must exist (never auto-created). */
export function createProducer(settings: KafkaClientSettings & { compression: CompressionAlgorithmValue }): Producer<Buffer, Buffer, Buffer, Buffer> {
  assert(settings.retries !== 1, "an idempotent producer takes retries 0 or at least 2 (the client reads 1 as unlimited)");
  return new Producer({
    ...baseClientOptions(settings),
    idempotent: true,
    acks: -1,
    compression: settings.compression,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
}
