/**
 * Config reload on SIGHUP (issue 8, docs/RELOAD.md), end to end with real
 * processes: a `logship agent` ships to a `logship collector`; the test
 * rewrites the agent's config and sends SIGHUP, then counts the collector's
 * log (`logship log dump`):
 *
 * 1. a rule added: lines of both rules' files, written before and after the
 *    reload, are each delivered exactly once;
 * 2. a rule removed: its file's lines read before the reload are delivered,
 *    lines written after are not;
 * 3. a rule changed (a `fields` value added) while its file is written: every
 *    line exactly once, and from some line on every line carries the field;
 * 4. a broken config: the error is logged with file:line:column, counted in
 *    /metrics, and the old rules keep shipping.
 *
 * Synchronisation is by the agent's log ("config reloaded") and /status, never
 * by elapsed time.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanups } from "../helpers/cleanups.ts";
import { agentSetup, agentStatus, collectorSetup, dumpLog, exactlyOnce, until, waitDelivered, writeNumbered, type AgentSetup, type CollectorSetup } from "../helpers/processes.ts";
import type { Event } from "../../shared/event.ts";

const DELIVERY_TIMEOUT_MS = 60_000;

interface Rig {
  directory: string;
  collector: CollectorSetup;
  agent: AgentSetup;
  /** The agent config up to `sources:` (collectors, data_dir, api). */
  head: string;
}

/** A collector and an agent whose only rule is `a` tailing `<dir>/a/*.log` from the beginning. */
async function rig(t: TestContext): Promise<Rig> {
  const directory = await mkdtemp(join(tmpdir(), "logship-reload-"));
  const defer = cleanups(t);
  defer(() => rm(directory, { recursive: true, force: true, maxRetries: 5 }));
  await mkdir(join(directory, "a"));
  await mkdir(join(directory, "b"));
  const collector = await collectorSetup(join(directory, "collector"));
  const collectorProcess = await collector.start();
  defer(() => collectorProcess.kill());
  const agent = await agentSetup(join(directory, "agent"), [collector.url], [join(directory, "a", "*.log")]);
  const text = await readFile(agent.configPath, "utf8");
  const head = text.slice(0, text.indexOf("sources:\n"));
  const built: Rig = { directory, collector, agent, head };
  await writeSources(built, [rule("a", join(directory, "a", "*.log"))]);
  const agentProcess = await agent.start();
  defer(() => agentProcess.kill());
  return built;
}

function rule(name: string, glob: string, extra = ""): string {
  return `  - name: ${name}\n    paths: [${JSON.stringify(glob)}]\n    start_at: beginning\n${extra}`;
}

async function writeSources(setup: Rig, rules: string[]): Promise<void> {
  await writeFile(setup.agent.configPath, `${setup.head}sources:\n${rules.join("")}`);
}

/** SIGHUP, then wait for the `count`-th line matching `pattern` (reloads are counted: each test may reload more than once). */
async function reload(setup: Rig, pattern: RegExp, count = 1): Promise<string> {
  const agent = setup.agent.process;
  assert.ok(agent !== null);
  agent.child.kill("SIGHUP");
  return until(`agent log ${pattern} (${count})`, 30_000, async () => agent.log.filter((line) => pattern.test(line))[count - 1]);
}

/** Waits until the agent has read `path` to its end (read, maybe not yet acknowledged). */
async function waitRead(setup: Rig, path: string): Promise<void> {
  const { size } = await stat(path);
  await until(`agent reads ${path} to ${size}`, 30_000, async () => {
    const status = await agentStatus(setup.agent);
    return status?.files.some((file) => file.currentPath === path && file.readOffset === size) === true ? true : undefined;
  });
}

function assertExactlyOnce(events: Event[], counts: Record<string, number>): void {
  const report = exactlyOnce(events, counts);
  assert.equal(report.missing + report.duplicates, 0, `missing ${report.missing}, duplicates ${report.duplicates}: ${report.examples.join("; ")}`);
}

function seqOf(event: Event): number {
  return Number(/ seq=(\d+) /.exec(event.message)?.[1]);
}

test("SIGHUP adds a rule: lines of both rules' files are delivered exactly once", async (t) => {
  const setup = await rig(t);
  const fileA = join(setup.directory, "a", "app.log");
  const fileB = join(setup.directory, "b", "worker.log");
  await writeNumbered(fileA, "add-a", 200, { batchLines: 50, pauseMs: 0 });
  // Written before the rule exists: start_at: beginning reads it from its start once the rule is added.
  await writeNumbered(fileB, "add-b", 100, { batchLines: 50, pauseMs: 0 });
  await waitDelivered(setup.agent, [fileA], DELIVERY_TIMEOUT_MS);
  await writeSources(setup, [rule("a", join(setup.directory, "a", "*.log")), rule("b", join(setup.directory, "b", "*.log"))]);
  const reloaded = await reload(setup, /config reloaded/);
  assert.deepEqual(JSON.parse(reloaded).added, ["b"]);
  await writeNumbered(fileA, "add-a-after", 200, { batchLines: 50, pauseMs: 0 });
  await writeNumbered(fileB, "add-b-after", 200, { batchLines: 50, pauseMs: 0 });
  await waitDelivered(setup.agent, [fileA, fileB], DELIVERY_TIMEOUT_MS);
  const events = await dumpLog(setup.collector.configPath);
  assertExactlyOnce(events, { "add-a": 200, "add-b": 100, "add-a-after": 200, "add-b-after": 200 });
  assert.ok(events.filter((event) => event.message.startsWith("file=add-b")).every((event) => event.source === "b"));
});

test("SIGHUP removes a rule: its lines read before are delivered, lines written after are not", async (t) => {
  const setup = await rig(t);
  const fileA = join(setup.directory, "a", "app.log");
  const fileB = join(setup.directory, "b", "worker.log");
  await writeSources(setup, [rule("a", join(setup.directory, "a", "*.log")), rule("b", join(setup.directory, "b", "*.log"))]);
  await reload(setup, /config reloaded/);
  await writeNumbered(fileA, "remove-a", 100, { batchLines: 50, pauseMs: 0 });
  await writeNumbered(fileB, "remove-b", 300, { batchLines: 50, pauseMs: 0 });
  await waitRead(setup, fileB);
  await writeSources(setup, [rule("a", join(setup.directory, "a", "*.log"))]);
  const reloaded = await reload(setup, /config reloaded/, 2);
  assert.deepEqual(JSON.parse(reloaded).removed, ["b"]);
  await writeNumbered(fileB, "remove-b-after", 100, { batchLines: 50, pauseMs: 0 });
  // Lines of the kept rule written after B's: once they are delivered, B's would have been read too.
  await writeNumbered(fileA, "remove-a-after", 100, { batchLines: 50, pauseMs: 0 });
  const status = await waitDelivered(setup.agent, [fileA], DELIVERY_TIMEOUT_MS);
  assert.ok(!status.files.some((file) => file.currentPath === fileB && file.state !== "done"), `B is not followed: ${JSON.stringify(status.files)}`);
  const events = await dumpLog(setup.collector.configPath);
  assertExactlyOnce(events, { "remove-a": 100, "remove-b": 300, "remove-a-after": 100 });
  assert.equal(events.filter((event) => event.message.startsWith("file=remove-b-after ")).length, 0, "lines written after the rule was removed are not shipped");
});

test("SIGHUP changes a rule on a file being written: every line exactly once, later lines carry the new field", async (t) => {
  const setup = await rig(t);
  const fileA = join(setup.directory, "a", "app.log");
  await writeNumbered(fileA, "change", 200, { batchLines: 100, pauseMs: 0 });
  await waitRead(setup, fileA);
  // The writer appends small bursts until the reload is done, then 500 more lines: lines are written across the reload.
  let reloadDone = false;
  const writer = (async () => {
    let seq = 200;
    while (!reloadDone) {
      await appendNumbered(fileA, "change", seq, seq + 20);
      seq += 20;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await appendNumbered(fileA, "change", seq, seq + 500);
    return seq + 500;
  })();
  await writeSources(setup, [rule("a", join(setup.directory, "a", "*.log"), "    fields: { team: payments }\n")]);
  let reloaded: string;
  try {
    reloaded = await reload(setup, /config reloaded/);
  } finally {
    reloadDone = true;
  }
  const lines = await writer;
  assert.deepEqual(JSON.parse(reloaded).changed, ["a"]);
  await waitDelivered(setup.agent, [fileA], DELIVERY_TIMEOUT_MS);
  const events = (await dumpLog(setup.collector.configPath)).filter((event) => event.message.startsWith("file=change ")).sort((left, right) => seqOf(left) - seqOf(right));
  assertExactlyOnce(events, { change: lines });
  const firstWithField = events.findIndex((event) => event.fields.team === "payments");
  assert.ok(firstWithField > 0, `lines before the reload lack the field, later ones have it (first with it: ${firstWithField})`);
  const without = events.slice(firstWithField).filter((event) => event.fields.team !== "payments");
  assert.equal(without.length, 0, `every line after seq ${seqOf(events[firstWithField] as Event)} carries the field; not: ${without.slice(0, 5).map(seqOf).join(", ")}`);
});

test("SIGHUP with a broken config: the error is logged and counted, the old rules keep shipping", async (t) => {
  const setup = await rig(t);
  const fileA = join(setup.directory, "a", "app.log");
  await writeNumbered(fileA, "broken-before", 100, { batchLines: 50, pauseMs: 0 });
  await waitDelivered(setup.agent, [fileA], DELIVERY_TIMEOUT_MS);
  // Two issues: an unknown parser type, and a rule without paths.
  await writeSources(setup, [rule("a", join(setup.directory, "a", "*.log"), "    parser: { type: xml }\n"), "  - name: b\n"]);
  const rejected = await reload(setup, /config reload rejected/);
  const entry = JSON.parse(rejected) as { level: string; issues: string[] };
  assert.equal(entry.level, "error");
  assert.equal(entry.issues.length, 2, rejected);
  for (const issue of entry.issues) assert.match(issue, /agent\.yaml:\d+:\d+: sources\[\d\]/);
  await writeNumbered(fileA, "broken-after", 100, { batchLines: 50, pauseMs: 0 });
  await waitDelivered(setup.agent, [fileA], DELIVERY_TIMEOUT_MS);
  const events = await dumpLog(setup.collector.configPath);
  assertExactlyOnce(events, { "broken-before": 100, "broken-after": 100 });
  const metrics = await (await fetch(`${setup.agent.apiUrl}/metrics`)).text();
  assert.match(metrics, /logship_agent_config_reloads_total\{result="rejected"\} 1/);
  assert.equal(setup.agent.process?.child.exitCode, null, "the agent still runs");
});

/** Appends lines `file=<name> seq=<from..to-1>` in one write. */
async function appendNumbered(path: string, name: string, from: number, to: number): Promise<void> {
  let text = "";
  for (let seq = from; seq < to; seq++) text += `file=${name} seq=${seq} the quick brown fox jumps over the lazy dog\n`;
  await appendFile(path, text);
}
