import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { formatIssue, loadConfigText } from "../shared/config/load.ts";
import { collectorConfigSchema, loadCollectorConfig } from "./config.ts";
import type { CollectorConfig } from "./config.ts";

const FIXTURES = fileURLToPath(new URL("../test/fixtures/config/", import.meta.url));

function load(text: string): { config?: CollectorConfig; issues: string[] } {
  const result = loadConfigText(text, "collector.yaml", collectorConfigSchema, {});
  return result.ok ? { config: result.config, issues: [] } : { issues: result.issues.map(formatIssue) };
}

test("an empty mapping gets every default", () => {
  const { config, issues } = load("{}\n");
  assert.deepEqual(issues, []);
  assert.deepEqual(config, {
    listen: "0.0.0.0:7170",
    data_dir: "/var/lib/logship/collector",
    tokens: [],
    ingest: {
      max_body_bytes: 8 * 1024 ** 2,
      max_batch_bytes: 64 * 1024 ** 2,
      max_events: 200_000,
      queue_max: 64,
      decompress_concurrency: 4,
      decode_threads: 2,
      request_timeout: 60_000,
    },
    log: {
      backend: "embedded",
      segment_bytes: 256 * 1024 ** 2,
      segment_age: 3_600_000,
      retention: { max_age: 7 * 86_400_000, max_bytes: 100 * 1024 ** 3, check_interval: 30_000 },
      fsync: { interval: 0 },
    },
    sinks: { search: { type: "embedded", retention: { check_interval: 60_000 } } },
    search: { backend: "embedded", peer_timeout: 5_000, tail_settle: 3_000 },
    transforms: [],
    routes: [],
    peers: [],
  });
});

test("search.peer_timeout: a duration from 100 ms to 10 minutes; at most 64 peers", () => {
  assert.equal(load("search: { peer_timeout: 250ms }\npeers: [http://10.0.0.6:7170]\n").config?.search.peer_timeout, 250);
  const refused = load("search: { peer_timeout: 50ms }\n").issues;
  assert.equal(refused.length, 1);
  assert.match(refused[0] ?? "", /^collector\.yaml:1:25: search\.peer_timeout: /);
  const tooMany = load(`peers: [${Array.from({ length: 65 }, (_, index) => `http://10.0.0.${index}:7170`).join(", ")}]\n`).issues;
  assert.equal(tooMany.length, 1);
  assert.match(tooMany[0] ?? "", /peers: at most 64 peers/);
});

test("search.tail_settle: a duration from 100 ms to 10 minutes, the bounds included", () => {
  assert.equal(load("search: { tail_settle: 100ms }\n").config?.search.tail_settle, 100);
  assert.equal(load("search: { tail_settle: 10m }\n").config?.search.tail_settle, 600_000);
  for (const refused of ["99ms", "601s"]) {
    const issues = load(`search: { tail_settle: ${refused} }\n`).issues;
    assert.equal(issues.length, 1, refused);
    assert.match(issues[0] ?? "", /^collector\.yaml:1:24: search\.tail_settle: /);
  }
});

test("the DESIGN.md example loads, with tokens from env defaults in flow maps", () => {
  const config = loadCollectorConfig(`${FIXTURES}collector-ok.yaml`, { INGEST_TOKEN: "from-env" });
  assert.deepEqual(config.tokens, [
    { token: "from-env", tenant: "default", role: "ingest" },
    { token: "search-secret", tenant: "default", role: "search" },
  ]);
  assert.deepEqual(config.log.kafka, { brokers: ["localhost:9092"], topic: "logship", timeout: 5_000, session_timeout: 10_000 });
  assert.deepEqual(config.sinks.archive, {
    format: "parquet",
    target: "file:///var/lib/logship/archive",
    partition: "dt=%Y-%m-%d/hour=%H",
    roll: { max_bytes: 128 * 1024 ** 2, max_age: 300_000 },
  });
});

test("archive user and timeout are for webhdfs targets only; compression_level is a zstd level", () => {
  const { config, issues } = load("sinks: { archive: { format: parquet, target: webhdfs://nn:9870/logs, user: etl, timeout: 5s } }\n");
  assert.deepEqual(issues, []);
  assert.equal(config?.sinks.archive?.user, "etl");
  assert.equal(config?.sinks.archive?.timeout, 5000);
  assert.deepEqual(load("sinks: { archive: { format: parquet, target: /srv/a, user: etl, timeout: 5s } }\n").issues, [
    "collector.yaml:1:60: sinks.archive.user: user is only for webhdfs:// and swebhdfs:// targets",
    "collector.yaml:1:74: sinks.archive.timeout: timeout is only for webhdfs:// and swebhdfs:// targets",
  ]);
  assert.match(load('sinks: { archive: { format: parquet, target: "webhdfs://nn/x", user: "a b" } }\n').issues[0] ?? "", /without spaces/);
  assert.equal(load("sinks: { archive: { format: ndjson, compression_level: 9 } }\n").config?.sinks.archive?.compression_level, 9);
  assert.match(load("sinks: { archive: { format: parquet, compression_level: 20 } }\n").issues[0] ?? "", /compression_level/);
  assert.match(load("sinks: { archive: { format: parquet, compression: snappy, compression_level: 5 } }\n").issues[0] ?? "", /snappy has none/);
});

test("archive partition defaults to tenant/day/hour", () => {
  const { config } = load("sinks: { archive: { format: ndjson, target: /srv/archive } }\n");
  assert.equal(config?.sinks.archive?.partition, "tenant=%T/dt=%Y-%m-%d/hour=%H");
});

test("archive target is optional (data_dir/archive) and a partition template is checked", () => {
  const { config, issues } = load("sinks: { archive: { format: ndjson } }\n");
  assert.deepEqual(issues, []);
  assert.equal(config?.sinks.archive?.target, undefined);
  assert.deepEqual(load('sinks: { archive: { format: ndjson, partition: "dt=%Y/min=%M" } }\n').issues, [
    'collector.yaml:1:48: sinks.archive.partition: unknown directive "%M" at 10; expected %T, %Y, %m, %d, %H or %%',
  ]);
  assert.match(load('sinks: { archive: { format: ndjson, partition: "../%Y" } }\n').issues[0] ?? "", /relative directory path/);
  assert.deepEqual(load("sinks: { archive: { format: parquet, compression: snappy } }\n").issues, []);
  assert.deepEqual(load("sinks: { archive: { format: ndjson, compression: snappy } }\n").issues, [
    "collector.yaml:1:50: sinks.archive.compression: ndjson files are zstd-compressed; snappy is for parquet",
  ]);
});

test("cross-field rules: kafka needs brokers, opensearch needs a url, search backend needs its sink", () => {
  assert.deepEqual(load("log: { backend: kafka }\n").issues, ['collector.yaml:1:17: log.backend: backend "kafka" needs log.kafka with brokers']);
  assert.deepEqual(load("sinks: { search: { type: opensearch } }\n").issues, ['collector.yaml:1:18: sinks.search.url: type "opensearch" needs url']);
  assert.deepEqual(load("search: { backend: opensearch }\n").issues, [
    'collector.yaml:1:20: search.backend: backend "opensearch" needs sinks.search.type: opensearch (that sink fills the index)',
  ]);
});

test("collector errors name file, line:column and key path", () => {
  const text = "listen: 7170\ntokens:\n  - { token: t, role: reader }\nsinks: { archive: { format: orc, target: s3://bucket } }\nlog: { segmnet_bytes: 1GiB }\n";
  const issues = load(text).issues;
  assert.deepEqual(issues.map((issue) => issue.split(": ").slice(0, 2).join(" ")), [
    "collector.yaml:1:9 listen",
    "collector.yaml:3:23 tokens[0].role",
    "collector.yaml:4:29 sinks.archive.format",
    "collector.yaml:4:42 sinks.archive.target",
    "collector.yaml:5:8 log.segmnet_bytes",
  ]);
  assert.match(issues[4] ?? "", /did you mean "segment_bytes"\?/);
});

test("ingest limits take units and are range-checked", () => {
  const { config } = load("ingest: { max_body_bytes: 1MiB, max_batch_bytes: 16MiB, max_events: 1000, queue_max: 8 }\nlog: { fsync: { interval: 5ms } }\n");
  assert.equal(config?.ingest.max_body_bytes, 1024 ** 2);
  assert.equal(config?.ingest.max_batch_bytes, 16 * 1024 ** 2);
  assert.equal(config?.log.fsync.interval, 5);
  const issues = load("ingest: { max_body_bytes: 2GiB, queue_max: 0 }\n").issues;
  assert.equal(issues.length, 2);
  assert.match(issues[0] ?? "", /ingest\.max_body_bytes: .*at most 1GiB/);
  assert.match(issues[1] ?? "", /ingest\.queue_max/);
});

test("log.kafka: brokers are host:port, the topic follows Kafka's naming rule, timeouts take durations", () => {
  const { config } = load("log: { backend: kafka, kafka: { brokers: [kafka-1:9092, '10.0.0.7:9093', '[::1]:9094'], topic: logs.v1, timeout: 2s, session_timeout: 30s } }\n");
  assert.deepEqual(config?.log.kafka, { brokers: ["kafka-1:9092", "10.0.0.7:9093", "[::1]:9094"], topic: "logs.v1", timeout: 2000, session_timeout: 30_000 });
  const issues = load("log: { backend: kafka, kafka: { brokers: [kafka-1, 'kafka-2:99999'], topic: 'my topic', timeout: 0, session_timeout: 10ms } }\n").issues;
  assert.deepEqual(
    issues.map((issue) => issue.split(": ").slice(1).join(": ")),
    [
      'log.kafka.brokers[0]: expected a broker as host:port like kafka-1:9092; got "kafka-1"',
      'log.kafka.brokers[1]: expected a broker as host:port like kafka-1:9092; got "kafka-2:99999"',
      'log.kafka.topic: a Kafka topic name is 1–249 letters, digits, ".", "_" or "-"',
      issues[3]?.split(": ").slice(1).join(": ") ?? "",
      issues[4]?.split(": ").slice(1).join(": ") ?? "",
    ],
  );
  assert.match(issues[3] ?? "", /log\.kafka\.timeout: .*at least 100ms/);
  assert.match(issues[4] ?? "", /log\.kafka\.session_timeout: .*at least 1s/);
  assert.deepEqual(load("log: { backend: kafka, kafka: { brokers: [] } }\n").issues, ["collector.yaml:1:42: log.kafka.brokers: at least one broker (host:port) is needed"]);
});

test("sinks.kafka: brokers and topic are required; compression and timeout default; unknown keys are refused", () => {
  const { config } = load("sinks: { kafka: { brokers: [kafka-1:9092], topic: events } }\n");
  assert.deepEqual(config?.sinks.kafka, { brokers: ["kafka-1:9092"], topic: "events", compression: "none", timeout: 10_000 });
  assert.equal(load("sinks: { kafka: { brokers: [k:1], topic: events, compression: zstd, timeout: 3s } }\n").config?.sinks.kafka?.compression, "zstd");
  const issues = load("sinks: { kafka: { brokers: [k:1], compresion: lz4 } }\n").issues;
  assert.equal(issues.length, 2);
  assert.match(issues.find((issue) => issue.includes("compresion")) ?? "", /unknown key "compresion"; did you mean "compression"\?/);
  assert.match(issues.find((issue) => issue.includes("sinks.kafka.topic")) ?? "", /sinks\.kafka\.topic/);
  assert.match(load("sinks: { kafka: { brokers: [k:1], topic: t, compression: brotli } }\n").issues[0] ?? "", /sinks\.kafka\.compression/);
  // The other sinks' keys are untouched by the kafka one.
  assert.deepEqual(load("sinks: { kafka: { brokers: [k:1], topic: t }, archive: { format: ndjson, target: /srv/archive } }\n").issues, []);
});

test("the kafka sink may not write into the log topic of the same brokers", () => {
  const clash = "log: { backend: kafka, kafka: { brokers: [k:1, k:2], topic: logship } }\nsinks: { kafka: { brokers: [k:2], topic: logship } }\n";
  assert.deepEqual(load(clash).issues, ['collector.yaml:2:42: sinks.kafka.topic: the kafka sink would write events into the log topic "logship"; choose another topic']);
  assert.deepEqual(load(clash.replace("[k:2], topic: logship", "[k:2], topic: events")).issues, []);
  assert.deepEqual(load(clash.replace("brokers: [k:2]", "brokers: [other:9092]")).issues, [], "another cluster's topic of the same name is another topic");
  assert.deepEqual(load(clash.replace("backend: kafka", "backend: embedded")).issues, [], "with the embedded log the log.kafka topic is not in use");
});

test("ingest.decode_threads: 1 to 64", () => {
  assert.equal(load("ingest: { decode_threads: 1 }\n").config?.ingest.decode_threads, 1);
  assert.equal(load("ingest: { decode_threads: 64 }\n").config?.ingest.decode_threads, 64);
  for (const threads of [0, 65]) {
    const issues = load(`ingest: { decode_threads: ${threads} }\n`).issues;
    assert.equal(issues.length, 1, `decode_threads ${threads}`);
    assert.match(issues[0] ?? "", /ingest\.decode_threads: /);
  }
});

test("transforms and routes: conditions, stream names and the catch-all route are checked at their line:column", () => {
  const good = [
    "transforms:",
    "  - drop: 'level:debug'",
    "routes:",
    "  - { stream: payments, when: 'source:checkout AND fields.event:(purchase OR top_up)', retention: { max_age: 30d } }",
    "  - { stream: errors, when: 'level:error' }",
    "  - { stream: default }",
    "sinks:",
    "  archive: { format: ndjson, streams: [payments] }",
    "  kafka: { brokers: [k:9092], topic: 'logs.{stream}', streams: [payments, errors, default] }",
    "",
  ].join("\n");
  const { config, issues } = load(good);
  assert.deepEqual(issues, []);
  assert.equal(config?.routes[0]?.retention?.max_age, 30 * 86_400_000);
  assert.deepEqual(config?.sinks.archive?.streams, ["payments"]);
  assert.deepEqual(
    load("routes:\n  - { stream: all }\n  - { stream: late, when: 'x' }\n  - { stream: 'bad name', when: 'level:(' }\n").issues,
    [
      "collector.yaml:2:5: routes[0]: a route without when takes every event, so it must be the last one (the routes after it could never match)",
      'collector.yaml:4:15: routes[2].stream: a stream name is 1–64 letters, digits, "_" or "-"',
      "collector.yaml:4:33: routes[2].when: invalid query at column 8 of the condition: expected a search term, found end of query",
    ],
  );
  assert.deepEqual(load("sinks:\n  archive: { format: ndjson, streams: [payments] }\n").issues, ["collector.yaml:2:40: sinks.archive.streams[0]: no route sends events to stream payments; streams: default"]);
  assert.deepEqual(load("sinks:\n  kafka: { brokers: [k:9092], topic: 'logs.{strem}' }\n").issues.length, 1);
  assert.deepEqual(
    load("log: { backend: kafka, kafka: { brokers: [k:1] } }\nroutes:\n  - { stream: a, when: x, retention: { max_bytes: 1GiB } }\n").issues,
    ["collector.yaml:3:38: routes[0].retention: with log.backend kafka a stream is a Kafka topic: set its retention on the topic (retention.ms, retention.bytes)"],
  );
  assert.match(load("transforms:\n  - drop: 'level:('\n").issues[0] ?? "", /^collector\.yaml:2:11: transforms\[0\]\.drop: invalid query/);
});
