/**
 * The sinks a collector config asks for (`sinks.*`), built after the config
 * was validated. Building opens no connection: a sink connects on its first
 * send, so a Kafka that is down at start shows up as retries, not as a
 * collector that will not start.
 *
 * Built today: `sinks.kafka`. `sinks.search` and `sinks.archive` are
 * validated (collector/config.ts) but their sinks are not in this build
 * yet; a configured archive is named in a warning so nobody expects files.
 */
import type { Logger } from "../../shared/logger.ts";
import type { CollectorConfig } from "../config.ts";
import type { Sink } from "./types.ts";

/**
 * The Kafka client is imported only when a kafka sink is configured: it
 * loads a WebAssembly module from its package directory when imported, which
 * a collector without Kafka should neither need nor pay for.
 */
export async function buildSinks(config: CollectorConfig, logger: Logger): Promise<Sink[]> {
  const sinks: Sink[] = [];
  const kafka = config.sinks.kafka;
  if (kafka !== undefined) {
    const { KafkaSink } = await import("./kafka/sink.ts");
    sinks.push(new KafkaSink({ brokers: kafka.brokers, topic: kafka.topic, compression: kafka.compression, timeoutMs: kafka.timeout, logger }));
  }
  if (config.sinks.archive !== undefined) logger.warn("sinks.archive is configured but this build has no archive sink yet; nothing is archived");
  return sinks;
}

/** Closes every sink that holds connections (after their runners stopped); a failure is logged, the others still close. */
export async function closeSinks(sinks: readonly Sink[], logger: Logger): Promise<void> {
  for (const sink of sinks) {
    try {
      await sink.close?.();
    } catch (error) {
      logger.warn("closing a sink failed", { sink: sink.name, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
