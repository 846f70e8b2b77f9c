/**
 * What a collector node is once its log and sink runners exist, whichever
 * the log backend (main.ts: embedded; kafka-collector.ts: Kafka): the
 * ingest service and HTTP server in front of the log, and the graceful stop
 * — server first (in-flight batches finish and are acknowledged), then the
 * sink runners (in-flight sends finish and are committed if delivered),
 * then the sinks' connections, then the log.
 */
import type { Logger } from "../shared/logger.ts";
import type { RouteHandler } from "./admin/routes.ts";
import type { CollectorConfig } from "./config.ts";
import { TokenTable } from "./ingest/auth.ts";
import type { DedupeIndex } from "./ingest/dedupe.ts";
import type { IngestMeter } from "./ingest/meter.ts";
import { CollectorServer } from "./ingest/server.ts";
import { IngestService, type BatchLog } from "./ingest/service.ts";
import type { CollectorMetrics } from "./metrics.ts";
import { closeSinks } from "./sinks/build.ts";
import type { Sink } from "./sinks/types.ts";

export interface NodeServerOptions {
  config: CollectorConfig;
  log: BatchLog & { readonly writable: boolean };
  dedupe: DedupeIndex;
  host: string;
  port: number;
  shutdownTimeoutMs: number;
  meter: IngestMeter;
  /** Routes beyond ingest and health, given the token table. */
  routes: (tokens: TokenTable) => RouteHandler;
  /** Serves GET /metrics and times search requests (collector/metrics.ts). */
  metrics: CollectorMetrics;
  logger: Logger;
}

/** The ingest service and HTTP server of a node, with the config's tokens and limits. */
export function startNodeServer(options: NodeServerOptions): Promise<CollectorServer> {
  const { config, log, logger } = options;
  const tokens = new TokenTable(config.tokens);
  if (tokens.open) logger.warn("no tokens configured: anyone who can reach the collector may ingest (as tenant default)");
  const service = new IngestService({
    log,
    dedupe: options.dedupe,
    limits: { batchBytesMax: config.ingest.max_batch_bytes, eventsMax: config.ingest.max_events },
    decompressConcurrency: config.ingest.decompress_concurrency,
    decodeThreads: config.ingest.decode_threads,
    logger,
    processing: { transforms: config.transforms, routes: config.routes },
    onProcessed: (tenant, processed, stored) => options.metrics.processed(tenant, processed, stored),
  });
  return CollectorServer.start({
    host: options.host,
    port: options.port,
    tokens,
    service,
    limits: { bodyBytesMax: config.ingest.max_body_bytes, queueMax: config.ingest.queue_max, requestTimeoutMs: config.ingest.request_timeout },
    ready: () => log.writable,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    logger,
    meter: options.meter,
    adminRoutes: options.metrics.route(options.metrics.observedSearchRoutes(options.routes(tokens))),
  });
}

export interface RunningNode<Log, Runners> {
  url: string;
  log: Log;
  server: CollectorServer;
  dedupe: DedupeIndex;
  sinks: Runners;
  stop(): Promise<void>;
}

/** A started node with its graceful stop (once, however often called). `stopped` adds figures to the last log line. */
export function runningNode<Log extends { close(): Promise<void> }, Runners extends { close(): Promise<void> }>(parts: {
  server: CollectorServer;
  log: Log;
  dedupe: DedupeIndex;
  sinks: Runners;
  sinkList: readonly Sink[];
  logger: Logger;
  stopped?: () => Record<string, unknown>;
}): RunningNode<Log, Runners> {
  const { server, log, sinks, logger } = parts;
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    log,
    server,
    dedupe: parts.dedupe,
    sinks,
    stop: () =>
      (stopping ??= (async () => {
        await server.close();
        await sinks.close();
        await closeSinks(parts.sinkList, logger);
        await log.close();
        logger.info("collector stopped", { responses: server.stats().responses, ...parts.stopped?.() });
      })()),
  };
}
