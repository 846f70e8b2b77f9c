/**
 * A collector node: opens the embedded log (recovering it), rebuilds the
 * idempotence table from the log's record headers, then serves HTTP.
 * `stop()` drains in-flight batches, closes the server, then the log.
 */
import { join } from "node:path";
import { ConfigError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { CollectorConfig } from "./config.ts";
import { TokenTable } from "./ingest/auth.ts";
import { DedupeIndex } from "./ingest/dedupe.ts";
import { CollectorServer } from "./ingest/server.ts";
import { IngestService } from "./ingest/service.ts";
import { isValidTenant } from "./log/format.ts";
import { EmbeddedLog } from "./log/log.ts";
import type { SyncFunction } from "./log/tenant-log.ts";
import { SinkFanout } from "./sinks/fanout.ts";
import type { Sink } from "./sinks/types.ts";

export interface CollectorOptions {
  config: CollectorConfig;
  logger: Logger;
  /** Test hook: replaces fdatasync. */
  sync?: SyncFunction;
  /** How long `stop()` waits for in-flight batches. */
  shutdownTimeoutMs?: number;
  /** Sinks fed from the log, one runner per (sink, tenant) (collector/sinks/). None: the log is only stored. */
  sinks?: readonly Sink[];
}

export interface RunningCollector {
  /** `http://host:port` it listens on. */
  url: string;
  log: EmbeddedLog;
  server: CollectorServer;
  dedupe: DedupeIndex;
  /** The sink runners: `status()` gives each one's offset, lag and last error. */
  sinks: SinkFanout;
  /** Graceful stop: refuse new work, finish in-flight batches (they are acknowledged), close the log. */
  stop(): Promise<void>;
}

const SHUTDOWN_TIMEOUT_MS_DEFAULT = 30_000;

/** The log directory of a collector config. */
export function logDirectory(config: CollectorConfig): string {
  return join(config.data_dir, "log");
}

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const { config, logger } = options;
  if (config.log.backend !== "embedded") throw new ConfigError('log.backend "kafka" is not available in this build yet; use "embedded"');
  for (const token of config.tokens) {
    if (!isValidTenant(token.tenant)) throw new ConfigError(`tenant ${JSON.stringify(token.tenant)} cannot be used as a directory name`);
  }
  const { host, port } = parseListen(config.listen);
  const sinks = new SinkFanout({ sinks: options.sinks ?? [], dataDirectory: config.data_dir, logger });
  const log = await EmbeddedLog.open({
    directory: logDirectory(config),
    segmentBytes: config.log.segment_bytes,
    fsyncIntervalMs: config.log.fsync.interval,
    segmentAgeMs: config.log.segment_age,
    retention: { maxAgeMs: config.log.retention.max_age, maxBytes: config.log.retention.max_bytes, intervalMs: config.log.retention.check_interval },
    // Retention keeps what a sink has not confirmed yet (unless max_bytes forces it); with no sinks this is undefined.
    lowestNeededOffset: (tenant) => sinks.lowestNeededOffset(tenant),
    logger,
    ...(options.sync === undefined ? {} : { sync: options.sync }),
  });
  let server: CollectorServer;
  let dedupe: DedupeIndex;
  try {
    dedupe = await rebuildDedupe(log, logger);
    await sinks.start(log);
    const tokens = new TokenTable(config.tokens);
    if (tokens.open) logger.warn("no tokens configured: anyone who can reach the collector may ingest (as tenant default)");
    const service = new IngestService({
      log,
      dedupe,
      limits: { batchBytesMax: config.ingest.max_batch_bytes, eventsMax: config.ingest.max_events },
      decompressConcurrency: config.ingest.decompress_concurrency,
      logger,
    });
    server = await CollectorServer.start({
      host,
      port,
      tokens,
      service,
      limits: { bodyBytesMax: config.ingest.max_body_bytes, queueMax: config.ingest.queue_max, requestTimeoutMs: config.ingest.request_timeout },
      ready: () => log.writable,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS_DEFAULT,
      logger,
    });
  } catch (error) {
    await sinks.destroy();
    await log.close();
    throw error;
  }
  logger.info("listening", { address: server.url, data_dir: config.data_dir, tenants: log.tenants() });
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    log,
    server,
    dedupe,
    sinks,
    stop: () =>
      (stopping ??= (async () => {
        await server.close();
        // In-flight sends finish and are committed if delivered; the rest is sent after the next start.
        await sinks.close();
        await log.close();
        logger.info("collector stopped", { responses: server.stats().responses });
      })()),
  };
}

async function rebuildDedupe(log: EmbeddedLog, logger: Logger): Promise<DedupeIndex> {
  const dedupe = new DedupeIndex(logger);
  let records = 0;
  for (const tenant of log.tenants()) {
    for await (const header of log.headers(tenant)) {
      dedupe.noteStored(tenant, header.agent, header.seq, header.floor, header.baseOffset);
      records++;
    }
  }
  logger.info("idempotence table rebuilt from the log", { records, remembered: dedupe.size });
  return dedupe;
}

/** `host:port` of the config (validated by the schema); `[v6]` loses its brackets. */
export function parseListen(listen: string): { host: string; port: number } {
  const separator = listen.lastIndexOf(":");
  const host = listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(listen.slice(separator + 1)) };
}
