/**
 * Archive acceptance (issue 6) on a `file://` target, end to end with real
 * processes: a `logship agent` tails 4 files (logfmt lines whose `ts` spreads
 * them over ~28 hourly partitions, every 997th line 3 hours late) while
 * writers append 4 × 250,000 numbered lines, ships to a `logship collector`
 * whose only sink is the archive, and DuckDB reads the committed files with
 * Hive partitioning (test/helpers/archive-duckdb.ts): every line exactly
 * once, in the partition (tenant, dt, hour) of its own time.
 *
 * 1. Parquet, `read_parquet`; the collector is SIGKILLed 10 times during the
 *    run (the writers are paced by the kills so each lands mid-stream). At
 *    every kill DuckDB's glob over the target and a read of every file it
 *    matches must work: no in-progress file is visible (at least one kill
 *    must find one on disk, or the check proved nothing).
 * 2. NDJSON.zst, `read_json`, the same with 10 SIGKILLs.
 * 3. A quiet stream: 100 lines and nothing after; the open file is
 *    committed by `roll.max_age` and the archive's lag in `GET /v1/status`
 *    drops to 0 with no further event.
 *
 * After the writers finish, the test waits until the agent shows every file
 * acknowledged and the archive's lag is 0 (files of quiet partitions are
 * committed by their age), then stops both with SIGTERM (each must exit 0).
 *
 * LOGSHIP_E2E_SEED=<seed> repeats the kill delays; LOGSHIP_E2E_KEEP=1 keeps
 * the scratch directory (it is always kept on failure);
 * LOGSHIP_ARCHIVE_E2E_LINES=<n> writes n lines per file instead of 250,000
 * (a quicker local loop; the acceptance is the default).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prng } from "../helpers/fault-proxy.ts";
import { archiveLine, countArchiveRows, globArchive, readArchive, type ArchiveFileFormat } from "../helpers/archive-duckdb.ts";
import { agentSetup, collectorSetup, until, waitDelivered, type AgentSetup, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const SEED = process.env.LOGSHIP_E2E_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.LOGSHIP_E2E_SEED);
const KEEP = process.env.LOGSHIP_E2E_KEEP === "1";
const LINES_PER_FILE = Number(process.env.LOGSHIP_ARCHIVE_E2E_LINES ?? 250_000);
const NAMES = ["a", "b", "c", "d"];
const KILLS = 10;
const BURSTS = 40;
/** Event time of seq 0; seq n is n · 400 ms later (250,000 lines: ~28 hours), every LATE_EVERY-th line LATE_MS earlier. */
const BASE_MS = Date.parse("2026-03-01T08:00:00.000Z");
const SEQ_STEP_MS = 400;
const LATE_EVERY = 997;
const LATE_MS = 3 * 3_600_000;
const PADDING = "the quick brown fox jumps over the lazy dog";
const ADMIN_TOKEN = "e2e-admin-token";
/** Upper bounds, only reached when something is wrong. */
const DELIVERY_TIMEOUT_MS = 300_000;
const ARCHIVED_TIMEOUT_MS = 120_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function collectorYaml(format: ArchiveFileFormat, maxAge: string): string {
  return [
    `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }`,
    `sinks:`,
    `  search: { type: none }`,
    `  archive: { format: ${format}, roll: { max_bytes: 16MiB, max_age: ${maxAge} } }`,
    ``,
  ].join("\n");
}

const AGENT_PARSER = "    parser: { type: logfmt, time_field: ts, time_format: rfc3339 }";

interface Run {
  collector: CollectorSetup;
  agent: AgentSetup;
  processes: { name: string; process: LogshipProcess }[];
  killed: number;
  failed: unknown;
}

async function start(run: Run, which: "collector" | "agent"): Promise<void> {
  const setup = which === "collector" ? run.collector : run.agent;
  run.processes.push({ name: `${which}-${run.processes.filter((entry) => entry.name.startsWith(which)).length}`, process: await setup.start() });
}

function timeOf(seq: number): number {
  return BASE_MS + seq * SEQ_STEP_MS - (seq % LATE_EVERY === LATE_EVERY - 1 ? LATE_MS : 0);
}

/** Appends a file's lines in BURSTS bursts; with `paced`, burst k waits for ⌊k / BURSTS · (KILLS + 1)⌋ kills. */
async function writeLines(path: string, name: string, run: Run, paced: boolean): Promise<void> {
  const perBurst = Math.ceil(LINES_PER_FILE / BURSTS);
  for (let burst = 0; burst * perBurst < LINES_PER_FILE; burst++) {
    while (paced && run.killed < Math.floor((burst / BURSTS) * (KILLS + 1))) {
      if (run.failed !== null) throw run.failed;
      await sleep(20);
    }
    let text = "";
    for (let seq = burst * perBurst; seq < Math.min(LINES_PER_FILE, (burst + 1) * perBurst); seq++) text += archiveLine(timeOf(seq), name, seq, PADDING);
    await appendFile(path, text);
    await sleep(50);
  }
}

/** Hidden (in-progress) files under `root`. */
async function inProgressFiles(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { recursive: true })).filter((path) => /(^|\/)\.inprogress-/.test(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** SIGKILLs the collector KILLS times at random moments; while it is down DuckDB globs and reads the target. Returns how many kills found an in-progress file on disk. */
async function killCollector(run: Run, root: string, format: ArchiveFileFormat, random: () => number): Promise<number> {
  let sawInProgress = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(1_000 + Math.floor(random() * 2_500));
    await run.collector.process?.kill("SIGKILL");
    const hidden = await inProgressFiles(root);
    if (hidden.length > 0) sawInProgress++;
    const globbed = await globArchive(root, format);
    assert.deepEqual(globbed.filter((file) => /\/\.[^/]*$/.test(file)), [], "DuckDB's glob matches no in-progress file");
    await countArchiveRows(root, format); // every file the glob matches is a whole file: reading it does not fail
    run.killed++;
    await start(run, "collector");
  }
  return sawInProgress;
}

interface ArchiveStatus {
  sinks: { sink: string; tenant: string; committed_offset: number; lag: { events: number } }[];
  tenants: { tenant: string; log: { next_offset: number } }[];
}

/** Waits until the archive's committed offset reached the end of the log (every file committed, quiet ones by age). */
async function waitArchived(collector: CollectorSetup, timeoutMs: number): Promise<void> {
  await until("the archive's lag to drop to 0", timeoutMs, async () => {
    const response = await fetch(`${collector.url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return undefined;
    const status = (await response.json()) as ArchiveStatus;
    const archive = status.sinks.find((sink) => sink.sink === "archive");
    return archive !== undefined && archive.lag.events === 0 && archive.committed_offset > 0 ? true : undefined;
  });
}

async function stopCleanly(process: LogshipProcess | null, name: string): Promise<void> {
  assert.ok(process !== null);
  await process.kill("SIGTERM");
  assert.deepEqual(await process.exited, { code: 0, signal: null }, `${name} exit on SIGTERM; last log:\n${process.log.slice(-10).join("\n")}`);
}

async function runScenario(t: TestContext, format: ArchiveFileFormat): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `logship-e2e-archive-${format}-`));
  let passed = false;
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const paths = NAMES.map((name) => join(logsDir, `${name}.log`));
  for (const path of paths) await writeFile(path, "");
  const collector = await collectorSetup(join(dir, "collector"), collectorYaml(format, "5s"));
  const agent = await agentSetup(join(dir, "agent"), [collector.url], [join(logsDir, "*.log")], AGENT_PARSER);
  const root = join(collector.dataDir, "archive");
  const run: Run = { collector, agent, processes: [], killed: 0, failed: null };
  await start(run, "collector");
  await start(run, "agent");
  try {
    const startedMs = Date.now();
    const killing = killCollector(run, root, format, prng(SEED)).catch((error: unknown) => {
      run.failed = error;
      throw error;
    });
    const [, sawInProgress] = await Promise.all([Promise.all(paths.map((path, index) => writeLines(path, NAMES[index] as string, run, true))), killing]);
    await waitDelivered(agent, paths, DELIVERY_TIMEOUT_MS);
    await waitArchived(collector, ARCHIVED_TIMEOUT_MS);
    const archivedMs = Date.now();
    await stopCleanly(agent.process, "agent");
    await stopCleanly(collector.process, "collector");
    assert.ok(sawInProgress > 0, "at least one kill left an in-progress file on disk (else the glob check proved nothing)");
    assert.deepEqual(await inProgressFiles(root), [], "a clean stop leaves no in-progress file");

    const report = await readArchive(root, format, Object.fromEntries(NAMES.map((name) => [name, LINES_PER_FILE])));
    t.diagnostic(`seed ${SEED}; ${NAMES.length * LINES_PER_FILE} lines archived in ${archivedMs - startedMs} ms with ${KILLS} collector kills (${sawInProgress} found in-progress files); ${report.files} ${format} files`);
    assert.deepEqual(
      { ...report, files: report.files > 0 },
      { files: true, hiddenFiles: 0, rows: NAMES.length * LINES_PER_FILE, unexpected: 0, duplicates: 0, missing: 0, wrongPartition: 0, wrongTime: 0 },
      `seed ${SEED}`,
    );
    passed = true;
  } finally {
    for (const { process } of run.processes) await process.kill("SIGKILL");
    if (passed && !KEEP) await rm(dir, { recursive: true, force: true });
    else {
      for (const { name, process } of run.processes) await writeFile(join(dir, `${name}.log`), process.log.join("\n"));
      t.diagnostic(`kept ${dir} (seed ${SEED}; process logs in *.log there)`);
    }
  }
}

test("parquet: 1,000,000 lines through agent → collector → archive, the collector SIGKILLed 10 times: DuckDB's read_parquet finds every line once in its partition", { timeout: 900_000 }, async (t) => {
  await runScenario(t, "parquet");
});

test("ndjson.zst: the same through read_json", { timeout: 900_000 }, async (t) => {
  await runScenario(t, "ndjson");
});

test("a quiet stream: its open file is committed by roll.max_age with no further event", { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "logship-e2e-archive-quiet-"));
  const defer = cleanups(t);
  defer(() => rm(dir, { recursive: true, force: true }));
  const logPath = join(dir, "quiet.log");
  let text = "";
  for (let seq = 0; seq < 100; seq++) text += archiveLine(BASE_MS + seq * 1000, "q", seq, PADDING);
  await writeFile(logPath, text);
  const collector = await collectorSetup(join(dir, "collector"), collectorYaml("parquet", "2s"));
  const agent = await agentSetup(join(dir, "agent"), [collector.url], [logPath], AGENT_PARSER);
  const collectorProcess = await collector.start();
  const agentProcess = await agent.start();
  defer(async () => {
    await agentProcess.kill("SIGKILL");
    await collectorProcess.kill("SIGKILL");
  });
  const root = join(collector.dataDir, "archive");
  await waitDelivered(agent, [logPath], 30_000);
  // Nothing more is written: only the age timer can commit the open file.
  await waitArchived(collector, 60_000);
  assert.deepEqual(await inProgressFiles(root), []);
  assert.equal((await globArchive(root, "parquet")).length, 1);
  const report = await readArchive(root, "parquet", { q: 100 });
  assert.deepEqual(report, { files: 1, hiddenFiles: 0, rows: 100, unexpected: 0, duplicates: 0, missing: 0, wrongPartition: 0, wrongTime: 0 });
  assert.ok(collectorProcess.child.exitCode === null, "the collector is still running: the file was committed by its timer, not at stop");
});
