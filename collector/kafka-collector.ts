/**
 * A collector node with `log.backend: kafka` (docs/KAFKA.md): the same
 * ingest (auth, limits, decode, idempotence) as with the embedded log, but
 * accepted batches are produced to the Kafka log topic and acknowledged
 * once Kafka acknowledged them (collector/log/kafka/kafka-log.ts), and
 * every configured sink is fed by a consumer-group runner over that topic
 * (collector/sinks/kafka-log-fanout.ts), sharing the partitions with the
 * other collectors. Nothing of the log is on local disk; `data_dir` holds
 * dead letters, and the embedded search index and the archive's default
 * target or its WebHDFS staging where those sinks are configured.
 *
 * Kafka down at start does not stop the collector: it listens, answers
 * ingest with 503 and /readyz with 503 until Kafka answers (logged), and
 * the sink runners keep trying to join their groups.
 *
 * `GET /v1/status` and `POST /v1/sinks/<name>/replay` are answered from
 * Kafka's offsets (admin/kafka-status.ts, sinks/kafka-log-fanout.ts).
 *
 * The idempotence table starts empty (there is no local log to rebuild it
 * from): after a restart, a batch re-sent to this collector is stored
 * again. Sinks are idempotent by event id; docs/KAFKA.md says what the topic
 * may hold twice.
 */
import { assert } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { LOGSHIP_VERSION } from "../shared/cli/commands/version.ts";
import { kafkaCollectorStatus, type KafkaStatusSources } from "./admin/kafka-status.ts";
import { adminRoutes, eitherRoute } from "./admin/routes.ts";
import type { CollectorConfig } from "./config.ts";
import { DedupeIndex } from "./ingest/dedupe.ts";
import { IngestMeter } from "./ingest/meter.ts";
import type { CollectorServer } from "./ingest/server.ts";
import { KafkaLog } from "./log/kafka/kafka-log.ts";
import { routedStreams } from "./routing/schema.ts";
import { DEFAULT_STREAM } from "./routing/streams.ts";
import { closeSinks, searchBackendOf, sinkSubscriptions } from "./sinks/build.ts";
import type { ReplayRequest } from "./sinks/fanout.ts";
import { KafkaLogFanout } from "./sinks/kafka-log-fanout.ts";
import { searchIndexOf } from "./sinks/search/sink.ts";
import { searchRoutes } from "./search/routes.ts";
import { uiRoutes } from "./ui/routes.ts";
import type { Sink } from "./sinks/types.ts";
import { runningNode, startNodeServer, type RunningNode } from "./node.ts";
import { CollectorMetrics } from "./metrics.ts";

export interface KafkaCollectorOptions {
  config: CollectorConfig;
  logger: Logger;
  host: string;
  port: number;
  sinks: readonly Sink[];
  shutdownTimeoutMs: number;
}

export type RunningKafkaCollector = RunningNode<KafkaLog, KafkaLogFanout>;

export async function startKafkaCollector(options: KafkaCollectorOptions): Promise<RunningKafkaCollector> {
  const { config, logger } = options;
  const kafka = config.log.kafka;
  assert(kafka !== undefined, "the config schema requires log.kafka with backend kafka");
  const searchBackend = await searchBackendOf(config, options.sinks);
  const sinks = new KafkaLogFanout({
    sinks: options.sinks,
    streams: routedStreams(config.routes).filter((stream) => stream !== DEFAULT_STREAM),
    subscriptions: sinkSubscriptions(config),
    brokers: kafka.brokers,
    topic: kafka.topic,
    timeoutMs: kafka.timeout,
    sessionTimeoutMs: kafka.session_timeout,
    dataDirectory: config.data_dir,
    logger,
  });
  const log = await KafkaLog.open({ brokers: kafka.brokers, topic: kafka.topic, timeoutMs: kafka.timeout, batchBytesMax: config.ingest.max_body_bytes, logger });
  const dedupe = new DedupeIndex(logger);
  const meter = new IngestMeter();
  const statusSources: KafkaStatusSources = { version: LOGSHIP_VERSION, startedMs: Date.now(), ready: () => log.writable, meter, topic: kafka.topic, brokers: kafka.brokers, offsets: sinks.offsets, sinks };
  let server: CollectorServer;
  // Ingest, refusals, search latency and process metrics; the log's topics and the sink groups from Kafka at scrape time, the runners' outcomes from this collector.
  const metrics = new CollectorMetrics();
  try {
    server = await startNodeServer({
      config,
      log,
      dedupe,
      host: options.host,
      port: options.port,
      shutdownTimeoutMs: options.shutdownTimeoutMs,
      meter,
      metrics,
      logger,
      // GET /v1/status and POST /v1/sinks/<name>/replay from Kafka's offsets (docs/KAFKA.md), then the search API over the embedded index the search sink fills (docs/SEARCH.md), then the web UI at / (docs/UI.md).
      routes: (tokens) =>
        eitherRoute(
          adminRoutes({ tokens, status: (principal) => kafkaCollectorStatus(statusSources, principal), replay: (request) => replayAnswer(sinks, request), logger }),
          searchRoutes({ tokens, index: searchIndexOf(options.sinks), ...(searchBackend === undefined ? {} : { backend: searchBackend }), logger, peers: config.peers, peerTimeoutMs: config.search.peer_timeout }),
          uiRoutes({ logger }),
        ),
    });
  } catch (error) {
    await sinks.destroy();
    await log.close();
    await closeSinks(options.sinks, logger);
    throw error;
  }
  const running = server;
  metrics.attach({ meter, server: () => running.stats(), kafka: { runners: () => sinks.status(), produced: () => log.producedTopics(), positions: () => sinks.positionsSnapshot() } });
  sinks.start();
  logger.info("listening", { address: server.url, data_dir: config.data_dir, log: "kafka", brokers: kafka.brokers, topic: kafka.topic, sinks: options.sinks.map((sink) => sink.name) });
  // Stopped runners leave their partitions to the other collectors' groups.
  return runningNode({ server, log, dedupe, sinks, sinkList: options.sinks, logger, stopped: () => ({ produced: log.stats().produced }) });
}

/** The answer to a replay of the Kafka log (docs/KAFKA.md, "Replay"). */
async function replayAnswer(sinks: KafkaLogFanout, request: ReplayRequest): Promise<Record<string, unknown>> {
  const result = await sinks.replay(request);
  return {
    sink: result.sink,
    tenant: result.tenant,
    group: result.group,
    partitions: result.partitions.map((entry) => ({
      partition: entry.partition,
      from_offset: Number(entry.fromOffset),
      committed_offset: entry.committedOffset === null ? null : Number(entry.committedOffset),
      end_offset: Number(entry.endOffset),
      records: entry.records,
    })),
    replayed_records: result.records,
  };
}
