/**
 * The archive sink with the real Kafka log (issue 6, docs/ARCHIVE.md
 * "With the Kafka log"): two `logship agent`s (tenants `default` and `ops`,
 * two files each: logfmt lines whose `ts` spreads them over hourly
 * partitions, every 997th line 3 hours late) ship to a `logship collector`
 * with `log.backend: kafka` whose only sink is the archive (Parquet on
 * file://). The collector is SIGKILLed KILLS times while the lines are
 * written, each time while a file is in progress (waited for, a few
 * seconds at most); at every kill DuckDB's glob matches no in-progress file and
 * reads every file it matches. Once the agents delivered everything and
 * the archive group's lag in /metrics is 0 (every file committed, quiet
 * ones by age), all stop with SIGTERM and DuckDB reads
 * `read_parquet('<root>/**\/*.parquet', hive_partitioning = true)`: every
 * line exactly once, `tenant`/`dt`/`hour` those of its own time, and every
 * file named by Kafka partition and offset range.
 *
 * The second test runs two collectors over the same target (a shared file
 * system, as HDFS would be), the agents sending to both, and kills them in
 * turn: the partitions move between them at each kill and each restart,
 * so a runner's session ends at a rebalance, releases what it held, and
 * lists the target again before it writes (the other collector's files);
 * how often that happens in a run depends on where the partitions are at
 * each kill, so it is reported, and the same exactly-once checks decide.
 *
 * The third deletes the in-progress file of a quiet partition under the
 * sink (as a target losing it would): its age roll fails with no record
 * to come, and the runner must still read the partition again (Sink
 * heldDropped) for the lag to reach 0 with every line once.
 *
 * LOGSHIP_E2E_SEED=<seed> repeats the kill delays.
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomInt, randomUUID } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKafka, stopKafka } from "../engines/kafka.ts";
import { archiveLine, countArchiveRows, globArchive, readArchive } from "../helpers/archive-duckdb.ts";
import { parseExposition, seriesOf } from "../../shared/testing/exposition.ts";
import { prng } from "../helpers/fault-proxy.ts";
import { createTopic, waitForProducerIds } from "../helpers/kafka-topics.ts";
import { agentSetup, collectorSetup, INGEST_TOKEN, until, waitDelivered, type AgentSetup, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";

const SEED = process.env.LOGSHIP_E2E_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.LOGSHIP_E2E_SEED);
const LINES_PER_FILE = 25_000;
const BURSTS = 20;
const KILLS = 10;
/** With two collectors each kill costs a rebalance after the dead one's session timeout: fewer, to stay within the itest budget. */
const KILLS_TWO_COLLECTORS = 4;
/** Before a kill, how long to wait for an in-progress file to exist, and how often to look. */
const IN_PROGRESS_WAIT_MS = 5_000;
const POLL_MS = 50;
const PARTITIONS = 4;
const OPS_TOKEN = "e2e-ops-ingest-token";
/** Event time of seq 0; seq n is n · 2 s later (25,000 lines: ~14 hours), every LATE_EVERY-th line LATE_MS earlier. */
const BASE_MS = Date.parse("2026-03-01T08:00:00.000Z");
const SEQ_STEP_MS = 2000;
const LATE_EVERY = 997;
const LATE_MS = 3 * 3_600_000;
const PADDING = "the quick brown fox jumps over the lazy dog";
/** Upper bounds, only reached when something is wrong. */
const DELIVERY_TIMEOUT_MS = 120_000;
const ARCHIVED_TIMEOUT_MS = 90_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let bootstrap = "";

before(() => {
  bootstrap = startKafka();
});

after(() => {
  stopKafka();
});

interface Run {
  collectors: CollectorSetup[];
  agents: AgentSetup[];
  processes: { name: string; process: LogshipProcess }[];
  kills: number;
  killed: number;
  failed: unknown;
}

function timeOf(seq: number): number {
  return BASE_MS + seq * SEQ_STEP_MS - (seq % LATE_EVERY === LATE_EVERY - 1 ? LATE_MS : 0);
}

async function startCollector(run: Run, index: number): Promise<void> {
  run.processes.push({ name: `collector-${index}-${run.killed}`, process: await (run.collectors[index] as CollectorSetup).start() });
}

/** Appends a file's lines in BURSTS bursts, burst k after ⌊k / BURSTS · (kills + 1)⌋ kills, so the kills land mid-stream. */
async function writeLines(path: string, name: string, run: Run): Promise<void> {
  const perBurst = Math.ceil(LINES_PER_FILE / BURSTS);
  for (let burst = 0; burst < BURSTS; burst++) {
    while (run.killed < Math.floor((burst / BURSTS) * (run.kills + 1))) {
      if (run.failed !== null) throw run.failed;
      await sleep(20);
    }
    let text = "";
    for (let seq = burst * perBurst; seq < Math.min(LINES_PER_FILE, (burst + 1) * perBurst); seq++) text += archiveLine(timeOf(seq), name, seq, PADDING);
    await appendFile(path, text);
  }
}

async function hiddenFiles(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { recursive: true })).filter((path) => /(^|\/)\.inprogress-/.test(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** SIGKILLs the collectors in turn `run.kills` times at random moments; while one is down DuckDB globs and reads the target. Returns how many kills found an in-progress file. */
async function killCollectors(run: Run, root: string, random: () => number): Promise<number> {
  let sawInProgress = 0;
  for (let kill = 0; kill < run.kills; kill++) {
    const victim = kill % run.collectors.length;
    await sleep(1_500 + Math.floor(random() * 2_500));
    // Kill while some collector has a file in progress (for up to IN_PROGRESS_WAIT_MS): with two, the victim may hold no partition just after a rebalance, and the glob check needs a hidden file to prove anything.
    const waitUntilMs = Date.now() + IN_PROGRESS_WAIT_MS;
    while ((await hiddenFiles(root)).length === 0 && Date.now() < waitUntilMs) await sleep(POLL_MS);
    await run.collectors[victim]?.process?.kill("SIGKILL");
    if ((await hiddenFiles(root)).length > 0) sawInProgress++;
    const globbed = await globArchive(root, "parquet");
    assert.deepEqual(globbed.filter((file) => /\/\.[^/]*$/.test(file)), [], "DuckDB's glob matches no in-progress file");
    await countArchiveRows(root, "parquet");
    run.killed++;
    await startCollector(run, victim);
  }
  return sawInProgress;
}

/** The archive group's lag per partition from /metrics, once every partition shows and all are 0. */
async function waitArchived(collector: CollectorSetup, topic: string): Promise<void> {
  await until("the archive group's lag in /metrics to drop to 0", ARCHIVED_TIMEOUT_MS, async () => {
    const response = await fetch(`${collector.url}/metrics`, { signal: AbortSignal.timeout(15_000) }).catch(() => null);
    if (response === null || !response.ok) return undefined;
    const lag = seriesOf(parseExposition(await response.text()), "logship_collector_sink_lag_records").filter((sample) => sample.labels["sink"] === "archive" && sample.labels["topic"] === topic);
    return lag.length === PARTITIONS && lag.every((sample) => sample.value === 0) ? true : undefined;
  });
}

async function stopCleanly(process: LogshipProcess | null, name: string): Promise<void> {
  assert.ok(process !== null);
  await process.kill("SIGTERM");
  assert.deepEqual(await process.exited, { code: 0, signal: null }, `${name} exit on SIGTERM; last log:\n${process.log.slice(-10).join("\n")}`);
}

async function runScenario(t: TestContext, collectorCount: number, kills: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "logship-kafka-archive-"));
  let passed = false;
  await waitForProducerIds(bootstrap);
  const topic = `logship-archive-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, PARTITIONS);
  // Every collector archives into the same directory, as collectors share an HDFS.
  const root = join(dir, "archive");
  const collectors: CollectorSetup[] = [];
  for (let index = 0; index < collectorCount; index++) {
    collectors.push(
      await collectorSetup(
        join(dir, `collector-${index}`),
        [
          `  - { token: ${OPS_TOKEN}, tenant: ops, role: ingest }`,
          "log:",
          "  backend: kafka",
          `  kafka: { brokers: ["${bootstrap}"], topic: ${topic}, session_timeout: 6s }`,
          "sinks:",
          "  search: { type: none }",
          `  archive: { format: parquet, target: "file://${root}", roll: { max_bytes: 4MiB, max_age: 3s } }`,
          "",
        ].join("\n"),
      ),
    );
  }
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const files = [
    { tenant: "default", name: "a" },
    { tenant: "default", name: "b" },
    { tenant: "ops", name: "c" },
    { tenant: "ops", name: "d" },
  ].map((file) => ({ ...file, path: join(logsDir, `${file.name}.log`) }));
  for (const file of files) await writeFile(file.path, "");
  const agents: AgentSetup[] = [];
  for (const tenant of ["default", "ops"]) {
    const paths = files.filter((file) => file.tenant === tenant).map((file) => file.path);
    const agent = await agentSetup(join(dir, `agent-${tenant}`), collectors.map((collector) => collector.url), paths, "    parser: { type: logfmt, time_field: ts, time_format: rfc3339 }");
    if (tenant === "ops") await writeFile(agent.configPath, (await readFile(agent.configPath, "utf8")).replace(`token: ${INGEST_TOKEN}`, `token: ${OPS_TOKEN}`));
    agents.push(agent);
  }
  const run: Run = { collectors, agents, processes: [], kills, killed: 0, failed: null };
  try {
    for (let index = 0; index < collectorCount; index++) await startCollector(run, index);
    for (const [index, agent] of agents.entries()) run.processes.push({ name: `agent-${index}`, process: await agent.start() });
    const killing = killCollectors(run, root, prng(SEED)).catch((error: unknown) => {
      run.failed = error;
      throw error;
    });
    const [, sawInProgress] = await Promise.all([Promise.all(files.map((file) => writeLines(file.path, file.name, run))), killing]);
    for (const [index, agent] of agents.entries()) await waitDelivered(agent, files.filter((file) => file.tenant === (index === 0 ? "default" : "ops")).map((file) => file.path), DELIVERY_TIMEOUT_MS);
    await waitArchived(collectors[0] as CollectorSetup, topic);
    for (const [index, agent] of agents.entries()) await stopCleanly(agent.process, `agent-${index}`);
    for (const [index, collector] of collectors.entries()) await stopCleanly(collector.process, `collector-${index}`);
    assert.deepEqual(await hiddenFiles(root), [], "a clean stop leaves no in-progress file");
    if (collectorCount === 1) {
      assert.ok(sawInProgress > 0, "at least one kill left an in-progress file on disk (else the glob check proved nothing)");
    } else {
      // With two collectors, which paths a run takes depends on where the partitions are at each kill: what it exercised is reported, not required (the one-collector test requires its kills to meet in-progress files).
      const relisted = run.processes.filter(({ name, process }) => name.startsWith("collector-") && process.log.some((line) => line.includes("archive sink listed its target again")));
      t.diagnostic(`${sawInProgress} of ${kills} kills met an in-progress file; ${relisted.length} collector process(es) listed the target again after a rebalance`);
    }

    const names = (await globArchive(root, "parquet")).map((path) => path.slice(path.lastIndexOf("/") + 1));
    assert.deepEqual(names.filter((name) => !new RegExp(`^(default|ops)~${topic}~[0-${PARTITIONS - 1}]-\\d+_\\d+-\\d+_\\d+\\.parquet$`).test(name)), [], "every file is named by Kafka partition and offset range");
    const report = await readArchive(root, "parquet", Object.fromEntries(files.map((file) => [file.name, LINES_PER_FILE])), Object.fromEntries(files.map((file) => [file.name, file.tenant])));
    t.diagnostic(`seed ${SEED}; ${files.length * LINES_PER_FILE} lines, ${collectorCount} collector(s), ${kills} kills (${sawInProgress} found in-progress files); ${report.files} parquet files`);
    assert.deepEqual(
      { ...report, files: report.files > 0 },
      { files: true, hiddenFiles: 0, rows: files.length * LINES_PER_FILE, unexpected: 0, duplicates: 0, missing: 0, wrongPartition: 0, wrongTime: 0 },
      `seed ${SEED}`,
    );
    passed = true;
  } finally {
    for (const { process } of run.processes) await process.kill("SIGKILL");
    if (passed) await rm(dir, { recursive: true, force: true });
    else {
      for (const { name, process } of run.processes) await writeFile(join(dir, `${name}.log`), process.log.join("\n"));
      t.diagnostic(`kept ${dir} (seed ${SEED}; process logs in *.log there)`);
    }
  }
}

test(`with the Kafka log, the archive holds every line exactly once in its partition, the collector SIGKILLed ${KILLS} times`, { timeout: 300_000 }, async (t) => {
  await runScenario(t, 1, KILLS);
});

test(`two collectors over one target, SIGKILLed ${KILLS_TWO_COLLECTORS} times in turn: the partitions move between them, and still every line once`, { timeout: 300_000 }, async (t) => {
  await runScenario(t, 2, KILLS_TWO_COLLECTORS);
});

test("an age roll that fails on a quiet partition (its in-progress file deleted under it): the runner reads the partition again with no further record, every line once", { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "logship-kafka-archive-roll-"));
  let passed = false;
  await waitForProducerIds(bootstrap);
  const topic = `logship-archive-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, 1);
  const root = join(dir, "archive");
  const collector = await collectorSetup(
    join(dir, "collector"),
    ["log:", "  backend: kafka", `  kafka: { brokers: ["${bootstrap}"], topic: ${topic} }`, "sinks:", "  search: { type: none }", `  archive: { format: parquet, target: "file://${root}", roll: { max_bytes: 64MiB, max_age: 15s } }`, ""].join("\n"),
  );
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const path = join(logsDir, "a.log");
  const lines = 2_000;
  let text = "";
  for (let seq = 0; seq < lines; seq++) text += archiveLine(BASE_MS + seq * 1000, "a", seq, PADDING);
  await writeFile(path, text);
  const agent = await agentSetup(join(dir, "agent"), [collector.url], [path], "    parser: { type: logfmt, time_field: ts, time_format: rfc3339 }");
  const processes: { name: string; process: LogshipProcess }[] = [];
  try {
    processes.push({ name: "collector", process: await collector.start() });
    processes.push({ name: "agent", process: await agent.start() });
    await waitDelivered(agent, [path], DELIVERY_TIMEOUT_MS);
    // The partition is quiet from here. Delete the open files under the sink (as a crash of the target would): their age roll's rename fails.
    const hidden = await until("an in-progress file", 30_000, async () => {
      const found = await hiddenFiles(root);
      return found.length > 0 ? found : undefined;
    });
    for (const file of hidden) await rm(join(root, file), { force: true });
    await until("the roll failure in the collector's log", 30_000, async () => (collector.process?.log.some((line) => line.includes("archive age roll failed")) === true ? true : undefined));
    await until("the archive group's lag in /metrics to drop to 0", ARCHIVED_TIMEOUT_MS, async () => {
      const response = await fetch(`${collector.url}/metrics`, { signal: AbortSignal.timeout(15_000) }).catch(() => null);
      if (response === null || !response.ok) return undefined;
      const lag = seriesOf(parseExposition(await response.text()), "logship_collector_sink_lag_records").filter((sample) => sample.labels["sink"] === "archive" && sample.labels["topic"] === topic);
      return lag.length === 1 && lag[0]?.value === 0 ? true : undefined;
    });
    assert.ok(collector.process?.log.some((line) => line.includes("the sink dropped the events it held")), "the runner's new session says why");
    await stopCleanly(agent.process, "agent");
    await stopCleanly(collector.process, "collector");
    const report = await readArchive(root, "parquet", { a: lines }, { a: "default" });
    assert.deepEqual({ ...report, files: report.files > 0 }, { files: true, hiddenFiles: 0, rows: lines, unexpected: 0, duplicates: 0, missing: 0, wrongPartition: 0, wrongTime: 0 });
    passed = true;
  } finally {
    for (const { process } of processes) await process.kill("SIGKILL");
    if (passed) await rm(dir, { recursive: true, force: true });
    else {
      for (const { name, process } of processes) await writeFile(join(dir, `${name}.log`), process.log.join("\n"));
      t.diagnostic(`kept ${dir} (process logs in *.log there)`);
    }
  }
});
