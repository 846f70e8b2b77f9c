/**
 * The sinks a collector config asks for (`sinks.*`), built after the config
 * was validated. Building opens no connection: a sink connects on its first
 * send, so a Kafka that is down at start shows up as retries, not as a
 * collector that will not start.
 *
 * Built today: `sinks.search` with `type: embedded` (the default, so every
 * collector indexes: data_dir/index/, docs/SEARCH.md) or `type: opensearch`
 * (docs/SINKS.md), `sinks.kafka`, and `sinks.archive` on a `file://` or
 * `webhdfs://` target (docs/ARCHIVE.md), with either log backend.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, ConfigError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { ArchiveSinkConfig, CollectorConfig } from "../config.ts";
import type { SearchBackend } from "../search/backend.ts";
import type { ArchiveTarget } from "./archive/target.ts";
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
    sinks.push(await buildOpenSearchSink(config, logger));
  }
  const kafka = config.sinks.kafka;
  if (kafka !== undefined) {
    const { KafkaSink } = await import("./kafka/sink.ts");
    sinks.push(new KafkaSink({ brokers: kafka.brokers, topic: kafka.topic, compression: kafka.compression, timeoutMs: kafka.timeout, logger }));
  }
  const archive = config.sinks.archive;
  if (archive !== undefined) {
    sinks.push(await buildArchiveSink(config, archive, logger));
  }
  return sinks;
}

/** The opensearch search sink (opens no connection until its first send). */
async function buildOpenSearchSink(config: CollectorConfig, logger: Logger): Promise<Sink> {
  const [{ openSearchSettings }, { OpenSearchClient }, { IndexNames }, { OpenSearchSink }] = await Promise.all([
    import("./opensearch/config.ts"),
    import("../opensearch/client.ts"),
    import("../opensearch/index-name.ts"),
    import("./opensearch/sink.ts"),
  ]);
  const settings = openSearchSettings(config.sinks.search);
  const template = { ...(settings.shards === undefined ? {} : { shards: settings.shards }), ...(settings.replicas === undefined ? {} : { replicas: settings.replicas }) };
  return new OpenSearchSink({
    client: new OpenSearchClient(settings.client),
    names: new IndexNames(settings.indexTemplate),
    gzip: settings.gzip,
    bulkBytesMax: settings.bulkBytesMax,
    bulkEventsMax: settings.bulkEventsMax,
    template,
    tailSettleMs: config.search.tail_settle,
    logger,
  });
}

/** The archive sink (with the Kafka log its files are named by Kafka partition and offsets: docs/ARCHIVE.md). */
async function buildArchiveSink(config: CollectorConfig, archive: ArchiveSinkConfig, logger: Logger): Promise<Sink> {
  const [{ ArchiveSink }, { parsePartitionTemplate }] = await Promise.all([import("./archive/sink.ts"), import("./archive/partition.ts")]);
  const partition = parsePartitionTemplate(archive.partition);
  assert(typeof partition !== "string", "the config validated the partition template");
  const format = archive.format === "ndjson" ? (await import("./archive/ndjson-file.ts")).ndjsonFormat(archive.compression_level) : (await import("./archive/parquet-file.ts")).parquetFormat(archive.compression ?? "zstd", archive.compression_level);
  const target = await buildArchiveTarget(config, archive);
  return new ArchiveSink({ name: "archive", target, format, partition, maxBytes: archive.roll.max_bytes, maxAgeMs: archive.roll.max_age, logger });
}

/** WebHDFS requests wait at most this long unless `sinks.archive.timeout` says otherwise. */
const WEBHDFS_TIMEOUT_MS_DEFAULT = 30_000;

/** A path or file:// URL: the local directory; webhdfs:// or swebhdfs://: HDFS, with files staged in data_dir/archive-staging. */
async function buildArchiveTarget(config: CollectorConfig, archive: ArchiveSinkConfig): Promise<ArchiveTarget> {
  const target = archive.target ?? join(config.data_dir, "archive");
  if (target.startsWith("/") || target.startsWith("file:")) {
    const { FileTarget } = await import("./archive/file-target.ts");
    return new FileTarget(target.startsWith("/") ? target : fileURLToPath(target));
  }
  const { WebHdfsTarget } = await import("./archive/webhdfs-target.ts");
  return WebHdfsTarget.open({ url: target, stagingDirectory: join(config.data_dir, "archive-staging"), user: archive.user, timeoutMs: archive.timeout ?? WEBHDFS_TIMEOUT_MS_DEFAULT });
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

/**
 * What answers searches with `search.backend: opensearch`: OpenSearch,
 * through the opensearch sink's client and index names (the config
 * requires that sink); undefined for the embedded backend.
 */
export async function searchBackendOf(config: CollectorConfig, sinks: readonly Sink[]): Promise<SearchBackend | undefined> {
  if (config.search.backend !== "opensearch") return undefined;
  const [{ openSearchSinkOf }, { OpenSearchBackend }] = await Promise.all([import("./opensearch/sink.ts"), import("../search/opensearch/backend.ts")]);
  const sink = openSearchSinkOf(sinks);
  if (sink === undefined) throw new ConfigError("search.backend is opensearch but no opensearch sink was built (sinks.search.type: opensearch)");
  return new OpenSearchBackend({ client: sink.client, names: sink.names, tail: { settleMs: config.search.tail_settle } });
}
