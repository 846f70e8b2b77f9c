/**
 * The sinks a collector config asks for (`sinks.*`), built after the config
 * was validated. Building opens no connection: a sink connects on its first
 * send, so a Kafka that is down at start shows up as retries, not as a
 * collector that will not start.
 *
 * Built today: `sinks.search` with `type: embedded` (the default, so every
 * collector indexes: data_dir/index/, docs/SEARCH.md), `sinks.kafka`, and
 * `sinks.archive` on a `file://` target (docs/ARCHIVE.md). `type:
 * opensearch`, `webhdfs://` archive targets and the archive with
 * `log.backend: kafka` are validated (collector/config.ts) but not in this
 * build yet; each is named in a warning so nobody expects documents or files.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ArchiveSinkConfig, CollectorConfig } from "../config.ts";
import type { Sink } from "./types.ts";

/** The embedded search index's directory of a collector config. */
export function indexDirectory(config: CollectorConfig): string {
  return join(config.data_dir, "index");
}

/**
 * Sinks are imported only when configured: the Kafka client loads a
 * WebAssembly module from its package directory when imported, and
 * node:sqlite prints an ExperimentalWarning when imported, which commands
 * that only read a config (`log dump`) should neither need nor show.
 */
export async function buildSinks(config: CollectorConfig, logger: Logger): Promise<Sink[]> {
  const sinks: Sink[] = [];
  if (config.sinks.search.type === "embedded") {
    const [{ SearchIndex }, { SearchSink }] = await Promise.all([import("../search/search-index.ts"), import("./search/sink.ts")]);
    const retention = config.sinks.search.retention;
    sinks.push(
      new SearchSink(new SearchIndex({ directory: indexDirectory(config) }), {
        logger,
        retention: { maxAgeMs: retention.max_age, maxBytes: retention.max_bytes, intervalMs: retention.check_interval },
      }),
    );
  } else if (config.sinks.search.type === "opensearch") {
    logger.warn("sinks.search.type is opensearch but this build has no opensearch sink yet; nothing is indexed");
  }
  const kafka = config.sinks.kafka;
  if (kafka !== undefined) {
    const { KafkaSink } = await import("./kafka/sink.ts");
    sinks.push(new KafkaSink({ brokers: kafka.brokers, topic: kafka.topic, compression: kafka.compression, timeoutMs: kafka.timeout, logger }));
  }
  const archive = config.sinks.archive;
  if (archive !== undefined) {
    const sink = await buildArchiveSink(config, archive, logger);
    if (sink !== null) sinks.push(sink);
  }
  return sinks;
}

/** The archive sink, or null (with a warning) for what this build cannot archive yet. */
async function buildArchiveSink(config: CollectorConfig, archive: ArchiveSinkConfig, logger: Logger): Promise<Sink | null> {
  const target = archive.target ?? join(config.data_dir, "archive");
  const root = target.startsWith("/") ? target : target.startsWith("file:") ? fileURLToPath(target) : null;
  const unsupported = root === null ? `target ${target} (only file:// targets are built yet)` : config.log.backend !== "embedded" ? "with log.backend kafka (the archive needs the embedded log's offsets)" : null;
  if (root === null || unsupported !== null) {
    logger.warn(`sinks.archive is configured but this build cannot archive ${unsupported ?? target}; nothing is archived`);
    return null;
  }
  const [{ ArchiveSink }, { FileTarget }, { parsePartitionTemplate }] = await Promise.all([import("./archive/sink.ts"), import("./archive/file-target.ts"), import("./archive/partition.ts")]);
  const partition = parsePartitionTemplate(archive.partition);
  assert(typeof partition !== "string", "the config validated the partition template");
  const format = archive.format === "ndjson" ? (await import("./archive/ndjson-file.ts")).NDJSON_FORMAT : (await import("./archive/parquet-file.ts")).parquetFormat(archive.compression ?? "zstd");
  return ArchiveSink.open({ name: "archive", target: new FileTarget(root), format, partition, maxBytes: archive.roll.max_bytes, maxAgeMs: archive.roll.max_age, logger });
}

/** The streams each sink reads, by sink name, for the sinks whose config names `streams` (the others read every stream). */
export function sinkSubscriptions(config: CollectorConfig): Map<string, readonly string[]> {
  const subscriptions = new Map<string, readonly string[]>();
  const { search, archive, kafka } = config.sinks;
  if (search.streams !== undefined) subscriptions.set("search", search.streams);
  if (archive?.streams !== undefined) subscriptions.set("archive", archive.streams);
  if (kafka?.streams !== undefined) subscriptions.set("kafka", kafka.streams);
  return subscriptions;
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
