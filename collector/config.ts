/**
 * The collector's config file: schema, types and loader. docs/CONFIG.md
 * lists every key; keep the two in step. Sizes come out as bytes and
 * durations as milliseconds. Every object is strict and defaulted.
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../shared/errors.ts";
import type { Env } from "../shared/config/env.ts";
import { formatIssue, loadConfigFile } from "../shared/config/load.ts";
import { httpUrlSchema, identifierSchema, listenAddressSchema } from "../shared/config/fields.ts";
import { boundedDuration, boundedSize, durationSchema, sizeSchema } from "../shared/config/units.ts";
import { INDEX_TEMPLATE_DEFAULT, indexTemplateProblem } from "./opensearch/index-name.ts";
import { transformsSchema } from "../agent/transforms/schema.ts";
import { routedStreams, routesSchema, streamNameSchema, type RoutesConfig } from "./routing/schema.ts";
import { DEFAULT_STREAM } from "./routing/streams.ts";
import { parsePartitionTemplate } from "./sinks/archive/partition.ts";

/** In the kafka sink's topic: the event's stream. */
export const STREAM_PLACEHOLDER = "{stream}";

/** Peers at most: a search holds a page from each of them at once. */
export const PEERS_MAX = 64;

export const tokenConfigSchema = z.strictObject({
  token: z.string().min(1, { error: "a token must not be empty" }).describe("Secret presented as `Authorization: Bearer <token>`."),
  tenant: identifierSchema("a tenant name").default("default").describe("Tenant the token acts for."),
  role: z.enum(["ingest", "search", "admin"]).describe("ingest: send batches; search: query; admin: everything."),
});

/** A bootstrap broker: `host:port` (a name, an IPv4 address or `[ipv6]`). */
const kafkaBrokerSchema = z.string().superRefine((text, ctx) => {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(text);
  const port = match === null ? Number.NaN : Number(match[2]);
  if (!(port >= 1 && port <= 65535)) ctx.addIssue({ code: "custom", message: `expected a broker as host:port like kafka-1:9092; got ${JSON.stringify(text)}`, input: text });
});

const kafkaBrokersSchema = z.array(kafkaBrokerSchema).min(1, { error: "at least one broker (host:port) is needed" }).describe("Bootstrap brokers, host:port.");

const KAFKA_TOPIC_CHARS_MAX = 249;

/** Kafka's own rule for topic names: 1–249 of letters, digits, ".", "_", "-", and not "." or "..". */
const kafkaTopicSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: 'a Kafka topic name is 1–249 letters, digits, ".", "_" or "-"' })
  .refine((topic) => topic !== "." && topic !== "..", { error: 'a Kafka topic cannot be named "." or ".."' });

/** Each request to a broker (connecting included) at most this long. */
const kafkaTimeoutSchema = boundedDuration({ min: 100, max: 60_000 });

export const kafkaConfigSchema = z.strictObject({
  brokers: kafkaBrokersSchema,
  topic: kafkaTopicSchema.default("logship").describe("Topic that holds the log (create it first: its partitions are the sinks' parallelism)."),
  timeout: kafkaTimeoutSchema
    .prefault("5s")
    .describe("Each request to a broker at most this long (connecting included); a batch Kafka did not acknowledge is answered 503 with Retry-After."),
  session_timeout: boundedDuration({ min: 1000, max: 1_800_000 })
    .prefault("10s")
    .describe("Consumer-group session of the sink runners: a collector silent this long loses its partitions to the others. Within the brokers' group.min/max.session.timeout.ms."),
});

/** A sink's `streams:`: the collector streams it reads (docs/ROUTING.md); absent: every stream. */
const sinkStreamsSchema = z
  .exactOptional(z.array(streamNameSchema).min(1, { error: "name at least one stream (leave streams out to read every stream)" }))
  .describe("Collector streams this sink reads (routes:, docs/ROUTING.md). Absent: every stream.");

/** A topic name, or a template whose `{stream}` is replaced by the event's stream (each result is a topic name). */
const kafkaTopicTemplateSchema = z.string().superRefine((template, ctx) => {
  const sample = template.replaceAll(STREAM_PLACEHOLDER, "x".repeat(64));
  const shortest = template.replaceAll(STREAM_PLACEHOLDER, "x");
  const valid = kafkaTopicSchema.safeParse(shortest).success && kafkaTopicSchema.safeParse(sample).success;
  if (!valid) ctx.addIssue({ code: "custom", message: `expected a Kafka topic name (1–249 letters, digits, ".", "_" or "-"), optionally with ${STREAM_PLACEHOLDER} (a stream name, up to 64 characters); got ${JSON.stringify(template)}`, input: template });
});

export const kafkaSinkConfigSchema = z.strictObject({
  brokers: kafkaBrokersSchema,
  topic: kafkaTopicTemplateSchema.describe(`Topic the events are written to (it must exist); ${STREAM_PLACEHOLDER} is replaced by the event's stream, e.g. logs.${STREAM_PLACEHOLDER}.`),
  compression: z.enum(["none", "gzip", "snappy", "lz4", "zstd"]).default("none").describe("Kafka compression of the record batches."),
  timeout: kafkaTimeoutSchema.prefault("10s").describe("Each produce request at most this long; a send not acknowledged by then is retried by the sink runner after a backoff."),
  streams: sinkStreamsSchema,
});

export const logConfigSchema = z
  .strictObject({
    backend: z.enum(["embedded", "kafka"]).default("embedded").describe("embedded: local segment files; kafka: an Apache Kafka topic."),
    segment_bytes: boundedSize({ min: 1024 * 1024 }).prefault("256MiB").describe("Embedded log: bytes per segment file."),
    segment_age: boundedDuration({ min: 1000 }).prefault("1h").describe("Embedded log: a segment this old is rolled at the next append (so retention can delete by age)."),
    retention: z
      .strictObject({
        max_age: durationSchema.prefault("7d").describe("Delete segments older than this (once every sink has passed them)."),
        max_bytes: sizeSchema.prefault("100GiB").describe("Delete the oldest segments beyond this many bytes, even ones a sink has not read (logged and counted)."),
        check_interval: boundedDuration({ min: 100, max: 3_600_000 }).prefault("30s").describe("How often retention runs (it also runs after every segment roll)."),
      })
      .prefault({}),
    fsync: z
      .strictObject({
        interval: boundedDuration({ max: 10_000 })
          .prefault(0)
          .describe("0: fdatasync as soon as batches are written, one sync shared by the batches waiting; >0: fdatasync at most this often. Either way a batch is acknowledged only after the sync that covers it."),
      })
      .prefault({}),
    kafka: z.exactOptional(kafkaConfigSchema),
  })
  .superRefine((log, ctx) => {
    if (log.backend === "kafka" && log.kafka === undefined) {
      ctx.addIssue({ code: "custom", path: ["backend"], message: 'backend "kafka" needs log.kafka with brokers', input: log });
    }
  });

/** Limits of `POST /v1/ingest` (docs/INGEST.md says what happens at each). */
export const ingestConfigSchema = z.strictObject({
  max_body_bytes: boundedSize({ min: 1024, max: 1024 ** 3 })
    .prefault("8MiB")
    .describe("Compressed request body at most; larger: 413 without reading further."),
  max_batch_bytes: boundedSize({ min: 1024, max: 1024 ** 3 })
    .prefault("64MiB")
    .describe("Decompressed batch at most, checked while decompressing (zip bombs stop here); larger: 413."),
  max_events: z.int().min(1).max(100_000_000).default(200_000).describe("Events per batch at most; more: 413."),
  queue_max: z.int().min(1).max(100_000).default(64).describe("Ingest requests being processed at most; beyond: 429 with Retry-After, body unread."),
  decompress_concurrency: z.int().min(1).max(256).default(4).describe("Batches handed to the decode threads at the same time at most; others wait their turn."),
  decode_threads: z.int().min(1).max(64).default(2).describe("Worker threads that decompress and check batches, each one at a time (bounds decompression memory to this × max_batch_bytes)."),
  request_timeout: boundedDuration({ min: 1000 })
    .prefault("60s")
    .describe("A request whose headers and body have not arrived in this time is answered 408 and closed."),
});

/** Keys of `sinks.search` that only `type: opensearch` takes. */
const OPENSEARCH_ONLY_KEYS = ["url", "index", "user", "password", "token", "tls", "compression", "bulk_max_bytes", "bulk_max_events", "timeout", "shards", "replicas"] as const;

export const searchSinkConfigSchema = z
  .strictObject({
    type: z.enum(["embedded", "opensearch", "none"]).default("embedded").describe("embedded: SQLite FTS5 in data_dir; opensearch: an OpenSearch cluster; none: no search index on this collector (a collector that only stores and forwards)."),
    url: z.exactOptional(httpUrlSchema("http://localhost:9200")).describe("opensearch only: cluster URL (http or https)."),
    index: z
      .exactOptional(z.string().min(1))
      .superRefine((index, ctx) => {
        const problem = index === undefined ? undefined : indexTemplateProblem(index);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: index });
      })
      .describe(`opensearch only: index name template; {tenant} is the tenant (lowercased), %Y %m %d the UTC day of the event time. Default ${INDEX_TEMPLATE_DEFAULT}.`),
    user: z.exactOptional(z.string().min(1)).describe("opensearch only: basic auth user (with password)."),
    password: z.exactOptional(z.string().min(1)).describe("opensearch only: basic auth password."),
    token: z.exactOptional(z.string().min(1)).describe("opensearch only: bearer token sent as `Authorization: Bearer <token>` (instead of user and password)."),
    tls: z
      .exactOptional(
        z.strictObject({
          ca_file: z.exactOptional(z.string().min(1)).describe("PEM file of a CA to trust besides the system's (a private cluster CA)."),
          verify: z.boolean().default(true).describe("false: accept any server certificate (never in production)."),
        }),
      )
      .describe("opensearch only: TLS of an https:// url."),
    compression: z.exactOptional(z.enum(["gzip", "none"])).describe("opensearch only: request body compression (default gzip; OpenSearch takes no zstd bodies)."),
    bulk_max_bytes: z.exactOptional(boundedSize({ min: 1024, max: 100 * 1024 * 1024 })).describe("opensearch only: uncompressed bytes per _bulk request at most (default 8MiB)."),
    bulk_max_events: z.exactOptional(z.int().min(1).max(100_000)).describe("opensearch only: events per _bulk request at most (default 5000)."),
    timeout: z.exactOptional(boundedDuration({ min: 100, max: 600_000 })).describe("opensearch only: each request at most this long (default 30s); a bulk not answered by then is retried."),
    shards: z.exactOptional(z.int().min(1).max(1024)).describe("opensearch only: primary shards of each new index (default: the cluster's)."),
    replicas: z.exactOptional(z.int().min(0).max(16)).describe("opensearch only: replicas of each new index (default: the cluster's)."),
    retention: z
      .strictObject({
        max_age: z
          .exactOptional(durationSchema)
          .describe("embedded only: delete a day's partition once the whole day is older than this (by event time). Absent: days are kept."),
        max_bytes: z
          .exactOptional(sizeSchema)
          .describe("embedded only: while the index (every tenant) is larger than this, delete the oldest day's partition; today's is never deleted for size. Absent: no size limit."),
        check_interval: boundedDuration({ min: 1000, max: 86_400_000 }).prefault("1m").describe("How often retention runs."),
      })
      .prefault({})
      .describe("Retention of the embedded index: whole day partitions are deleted (docs/SEARCH.md, Retention)."),
    streams: sinkStreamsSchema,
  })
  .superRefine((sink, ctx) => {
    if (sink.type === "opensearch" && sink.url === undefined) {
      ctx.addIssue({ code: "custom", path: ["url"], message: 'type "opensearch" needs url', input: sink });
    }
    if (sink.type !== "embedded" && (sink.retention.max_age !== undefined || sink.retention.max_bytes !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["retention"], message: 'retention is only for type "embedded" (an OpenSearch cluster keeps its own index lifecycle)', input: sink.retention });
    }
    if (sink.user !== undefined && sink.password === undefined) ctx.addIssue({ code: "custom", path: ["password"], message: "user needs password", input: sink });
    if (sink.password !== undefined && sink.user === undefined) ctx.addIssue({ code: "custom", path: ["user"], message: "password needs user", input: sink });
    if (sink.token !== undefined && sink.user !== undefined) ctx.addIssue({ code: "custom", path: ["token"], message: "either token (bearer) or user and password (basic), not both", input: sink });
    for (const key of OPENSEARCH_ONLY_KEYS) {
      if (sink.type !== "opensearch" && sink[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: [key], message: `${key} is only allowed with type "opensearch"`, input: sink });
      }
    }
  });

const ARCHIVE_SCHEMES = ["file:", "webhdfs:", "swebhdfs:"];

export const archiveSinkConfigSchema = z.strictObject({
  format: z.enum(["parquet", "ndjson"]).describe("parquet, or ndjson compressed with zstd (.ndjson.zst)."),
  target: z
    .exactOptional(z.string())
    .superRefine((target, ctx) => {
      if (target === undefined) return;
      const scheme = URL.canParse(target) ? new URL(target).protocol : undefined;
      if (!target.startsWith("/") && (scheme === undefined || !ARCHIVE_SCHEMES.includes(scheme))) {
        ctx.addIssue({
          code: "custom",
          message: `expected an absolute path or a file://, webhdfs:// or swebhdfs:// URL; got ${JSON.stringify(target)}`,
          input: target,
        });
      }
    })
    .describe("Where archive files go: /path, file:///path or webhdfs://namenode:9870/path. Absent: data_dir/archive."),
  partition: z
    .string()
    .min(1)
    .default("tenant=%T/dt=%Y-%m-%d/hour=%H")
    .superRefine((partition, ctx) => {
      const parsed = parsePartitionTemplate(partition);
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed, input: partition });
    })
    .describe("Partition directory pattern: %T tenant, strftime %Y %m %d %H (UTC) of the event time."),
  roll: z
    .strictObject({
      max_bytes: boundedSize({ min: 1 }).prefault("128MiB").describe("Close a file at this many bytes."),
      max_age: durationSchema.prefault("5m").describe("Close a file this long after it was opened."),
    })
    .prefault({}),
  compression: z.exactOptional(z.enum(["zstd", "snappy"])).describe("parquet page compression (default zstd); ndjson files are always zstd."),
  compression_level: z.exactOptional(z.int().min(1).max(19)).describe("zstd level (1-19) of ndjson files (default 3) and zstd parquet pages (default 6): higher is smaller and slower (docs/ARCHIVE.md, Benchmark)."),
  user: z
    .exactOptional(z.string().min(1).regex(/^[^\s&=#]+$/, "a user name without spaces, &, = or #"))
    .describe("webhdfs:// targets: the HDFS user (user.name, simple authentication). Absent: HDFS's anonymous user."),
  timeout: z.exactOptional(boundedDuration({ min: 100, max: 600_000 })).describe("webhdfs:// targets: each WebHDFS request at most this long (default 30s)."),
  streams: sinkStreamsSchema,
}).superRefine((archive, ctx) => {
  if (archive.format === "ndjson" && archive.compression === "snappy") {
    ctx.addIssue({ code: "custom", path: ["compression"], message: "ndjson files are zstd-compressed; snappy is for parquet", input: archive.compression });
  }
  if (archive.compression === "snappy" && archive.compression_level !== undefined) {
    ctx.addIssue({ code: "custom", path: ["compression_level"], message: "compression_level is a zstd level; snappy has none", input: archive.compression_level });
  }
  const webhdfs = archive.target !== undefined && /^s?webhdfs:/.test(archive.target);
  for (const key of ["user", "timeout"] as const) {
    if (!webhdfs && archive[key] !== undefined) {
      ctx.addIssue({ code: "custom", path: [key], message: `${key} is only for webhdfs:// and swebhdfs:// targets`, input: archive[key] });
    }
  }
});

export const collectorConfigSchema = z
  .strictObject({
    listen: listenAddressSchema().default("0.0.0.0:7170").describe("Ingest, search API, UI and /metrics."),
    data_dir: z.string().min(1).default("/var/lib/logship/collector").describe("Embedded log, index and state."),
    tokens: z.array(tokenConfigSchema).default([]).describe("Accepted tokens. None: no authentication."),
    ingest: ingestConfigSchema.prefault({}),
    log: logConfigSchema.prefault({}),
    sinks: z
      .strictObject({
        search: searchSinkConfigSchema.prefault({}),
        archive: z.exactOptional(archiveSinkConfigSchema),
        kafka: z.exactOptional(kafkaSinkConfigSchema).describe("Forward every event to a Kafka topic, keyed by host:path."),
      })
      .prefault({}),
    search: z
      .strictObject({
        backend: z.enum(["embedded", "opensearch"]).default("embedded").describe("Which index answers queries."),
        peer_timeout: boundedDuration({ min: 100, max: 600_000 })
          .prefault("5s")
          .describe("How long each of `peers` has to answer its part of a search or histogram; one that does not is left out and named (partial: true)."),
        tail_settle: boundedDuration({ min: 100, max: 600_000 })
          .prefault("3s")
          .describe("backend opensearch: the live tail shows a document once its indexed_at stamp is this old, when it is assumed searchable (refresh interval + bulk time + clock spread between collectors; docs/SEARCH.md)."),
      })
      .prefault({}),
    transforms: transformsSchema.default([]).describe("Steps applied to every event on ingest, before the log (docs/ROUTING.md; the steps are those of docs/TRANSFORMS.md)."),
    routes: routesSchema.default([]),
    peers: z
      .array(httpUrlSchema("http://10.0.0.6:7170"))
      .max(PEERS_MAX, { error: `at most ${PEERS_MAX} peers (each search asks every one of them)` })
      .default([])
      .describe("Other collectors searched together with this one: a search asked of this collector is sent to each of them (one hop) and the answers merged."),
  })
  .superRefine((config, ctx) => {
    const logKafka = config.log.backend === "kafka" ? config.log.kafka : undefined;
    const sinkKafka = config.sinks.kafka;
    if (logKafka !== undefined && sinkKafka !== undefined && sinkKafka.topic === logKafka.topic && sinkKafka.brokers.some((broker) => logKafka.brokers.includes(broker))) {
      ctx.addIssue({
        code: "custom",
        path: ["sinks", "kafka", "topic"],
        message: `the kafka sink would write events into the log topic ${JSON.stringify(logKafka.topic)}; choose another topic`,
        input: sinkKafka.topic,
      });
    }
    checkStreams(config, ctx);
    if (config.search.backend === "opensearch" && config.sinks.search.type !== "opensearch") {
      ctx.addIssue({
        code: "custom",
        path: ["search", "backend"],
        message: 'backend "opensearch" needs sinks.search.type: opensearch (that sink fills the index)',
        input: config.search,
      });
    }
  });

/** Sinks read streams the routes produce; a route's retention is for the embedded log (Kafka topics keep their own). */
function checkStreams(
  config: { routes: RoutesConfig; log: { backend: string; kafka?: { topic: string } | undefined }; sinks: Record<string, { streams?: string[] | undefined } | undefined> },
  ctx: z.RefinementCtx,
): void {
  const streams = routedStreams(config.routes);
  for (const [name, sink] of Object.entries(config.sinks)) {
    for (const [index, stream] of (sink?.streams ?? []).entries()) {
      if (!streams.includes(stream)) {
        ctx.addIssue({ code: "custom", path: ["sinks", name, "streams", index], message: `no route sends events to stream ${stream}; streams: ${streams.join(", ")}`, input: stream });
      }
    }
  }
  if (config.log.backend !== "kafka") return;
  const topic = config.log.kafka?.topic ?? "";
  for (const [index, route] of config.routes.entries()) {
    if (route.stream !== DEFAULT_STREAM && `${topic}.${route.stream}`.length > KAFKA_TOPIC_CHARS_MAX) {
      ctx.addIssue({ code: "custom", path: ["routes", index, "stream"], message: `the stream's topic ${topic}.${route.stream} is longer than Kafka's ${KAFKA_TOPIC_CHARS_MAX} characters`, input: route.stream });
    }
    if (route.retention !== undefined) {
      ctx.addIssue({ code: "custom", path: ["routes", index, "retention"], message: "with log.backend kafka a stream is a Kafka topic: set its retention on the topic (retention.ms, retention.bytes)", input: route.retention });
    }
  }
}

export type CollectorConfig = z.output<typeof collectorConfigSchema>;
export type TokenConfig = z.output<typeof tokenConfigSchema>;
export type LogConfig = z.output<typeof logConfigSchema>;
export type IngestConfig = z.output<typeof ingestConfigSchema>;
export type KafkaConfig = z.output<typeof kafkaConfigSchema>;
export type KafkaSinkConfig = z.output<typeof kafkaSinkConfigSchema>;
export type SearchSinkConfig = z.output<typeof searchSinkConfigSchema>;
export type ArchiveSinkConfig = z.output<typeof archiveSinkConfigSchema>;

/** Loads and validates a collector config; throws ConfigError listing every issue, one per line. */
export function loadCollectorConfig(file: string, env: Env): CollectorConfig {
  const result = loadConfigFile(file, collectorConfigSchema, env);
  if (!result.ok) throw new ConfigError(result.issues.map(formatIssue).join("\n"));
  // Relative paths in a config mean the same wherever logship is started: they resolve against the file's directory.
  return { ...result.config, data_dir: resolve(dirname(resolve(file)), result.config.data_dir) };
}
