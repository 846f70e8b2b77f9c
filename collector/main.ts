/**
 * A collector node: opens the embedded log (recovering it), rebuilds the
 * idempotence table from the log's record headers, then serves HTTP.
 * `stop()` drains in-flight batches, closes the server, then the log.
 * With `log.backend: kafka` the node is built by kafka-collector.ts.
 */
import { join } from "node:path";
import { ConfigError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { LOGSHIP_VERSION } from "../shared/cli/commands/version.ts";
import { adminRoutes, eitherRoute, replayResultJson } from "./admin/routes.ts";
import { collectorStatus, type StatusSources } from "./admin/status.ts";
import type { CollectorConfig } from "./config.ts";
import { DedupeIndex } from "./ingest/dedupe.ts";
import { IngestMeter } from "./ingest/meter.ts";
import { CollectorMetrics } from "./metrics.ts";
import type { CollectorServer } from "./ingest/server.ts";
import { isValidTenant } from "./log/format.ts";
import { EmbeddedLog } from "./log/log.ts";
import type { KafkaLog } from "./log/kafka/kafka-log.ts";
import { buildSinks, closeSinks, searchBackendOf, sinkSubscriptions } from "./sinks/build.ts";
import type { KafkaLogFanout } from "./sinks/kafka-log-fanout.ts";
import type { RetentionLimits } from "./log/retention.ts";
import type { SyncFunction } from "./log/tenant-log.ts";
import { SinkFanout } from "./sinks/fanout.ts";
import { searchIndexOf } from "./sinks/search/sink.ts";
import { searchRoutes } from "./search/routes.ts";
import { uiRoutes } from "./ui/routes.ts";
import type { Sink } from "./sinks/types.ts";
import { runningNode, startNodeServer, type RunningNode } from "./node.ts";

export interface CollectorOptions {
  config: CollectorConfig;
  logger: Logger;
  /** Test hook: replaces fdatasync. */
  sync?: SyncFunction;
  /** How long `stop()` waits for in-flight batches. */
  shutdownTimeoutMs?: number;
  /** Sinks fed from the log, one runner per (sink, tenant) (collector/sinks/). Default: those the config's `sinks` builds (sinks/build.ts); none: the log is only stored. */
  sinks?: readonly Sink[];
}

/** A running collector (node.ts): its log is the embedded log, or the Kafka log's producer side (`log.backend: kafka`); its runners read at their own offsets, or as consumer groups. */
export type RunningCollector = RunningNode<EmbeddedLog | KafkaLog, SinkFanout | KafkaLogFanout>;

const SHUTDOWN_TIMEOUT_MS_DEFAULT = 30_000;

/** The log directory of a collector config. */
export function logDirectory(config: CollectorConfig): string {
  return join(config.data_dir, "log");
}

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const { config, logger } = options;
  for (const token of config.tokens) {
    if (!isValidTenant(token.tenant)) throw new ConfigError(`tenant ${JSON.stringify(token.tenant)} cannot be used as a directory name`);
  }
  const { host, port } = parseListen(config.listen);
  const sinkList = options.sinks ?? (await buildSinks(config, logger));
  const searchBackend = await searchBackendOf(config, sinkList);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? SHUTDOWN_TIMEOUT_MS_DEFAULT;
  if (config.log.backend === "kafka") {
    // Imported here, not at the top: the Kafka client loads WebAssembly on import (see sinks/build.ts).
    const { startKafkaCollector } = await import("./kafka-collector.ts");
    return startKafkaCollector({ config, logger, host, port, sinks: sinkList, shutdownTimeoutMs });
  }
  const sinks = new SinkFanout({ sinks: sinkList, subscriptions: sinkSubscriptions(config), dataDirectory: config.data_dir, logger });
  const metrics = new CollectorMetrics();
  const log = await EmbeddedLog.open({
    directory: logDirectory(config),
    segmentBytes: config.log.segment_bytes,
    fsyncIntervalMs: config.log.fsync.interval,
    segmentAgeMs: config.log.segment_age,
    retention: { maxAgeMs: config.log.retention.max_age, maxBytes: config.log.retention.max_bytes, intervalMs: config.log.retention.check_interval },
    streamRetention: streamRetention(config),
    // Retention keeps what a sink has not confirmed yet (unless max_bytes forces it); with no sinks this is undefined.
    lowestNeededOffset: (tenant) => sinks.lowestNeededOffset(tenant),
    logger,
    sync: metrics.timedSync(options.sync ?? ((file) => file.datasync())),
  });
  let server: CollectorServer;
  let dedupe: DedupeIndex;
  try {
    dedupe = await rebuildDedupe(log, logger);
    await sinks.start(log);
    const meter = new IngestMeter();
    const statusSources: StatusSources = { version: LOGSHIP_VERSION, startedMs: Date.now(), ready: () => log.writable, meter, log, sinks };
    server = await startNodeServer({
      config,
      log,
      dedupe,
      host,
      port,
      shutdownTimeoutMs,
      meter,
      metrics,
      logger,
      // GET /v1/status and POST /v1/sinks/<name>/replay (docs/SINKS.md), then the search API (docs/SEARCH.md), then the web UI at / (docs/UI.md).
      routes: (tokens) =>
        eitherRoute(
          adminRoutes({
            tokens,
            status: (principal) => collectorStatus(statusSources, principal),
            replay: async (request) => replayResultJson(await sinks.replay(request)),
            logger,
          }),
          searchRoutes({ tokens, index: searchIndexOf(sinkList), ...(searchBackend === undefined ? {} : { backend: searchBackend }), logger, peers: config.peers, peerTimeoutMs: config.search.peer_timeout }),
          uiRoutes({ logger }),
        ),
    });
    const running = server;
    metrics.attach({ meter, server: () => running.stats(), log, sinks });
  } catch (error) {
    await sinks.destroy();
    await closeSinks(sinkList, logger);
    await log.close();
    throw error;
  }
  logger.info("listening", { address: server.url, data_dir: config.data_dir, tenants: log.tenants() });
  // Stopped runners leave unconfirmed sends to the next start.
  return runningNode({ server, log, dedupe, sinks, sinkList, logger });
}

/** Each route's `retention:` over log.retention (docs/ROUTING.md), by stream. */
function streamRetention(config: CollectorConfig): Map<string, RetentionLimits> {
  const limits = new Map<string, RetentionLimits>();
  for (const route of config.routes) {
    if (route.retention === undefined) continue;
    limits.set(route.stream, { maxAgeMs: route.retention.max_age ?? config.log.retention.max_age, maxBytes: route.retention.max_bytes ?? config.log.retention.max_bytes });
  }
  return limits;
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
