/**
 * Collector outages (issue 3, acceptance), with real processes: one agent
 * (bin/logship.ts) tailing 4 files that writers in this process keep
 * appending numbered lines to, and two collectors. Each collector's log is
 * read back with `logship log dump` and the union is checked: every written
 * line exactly once.
 *
 * a. One collector stopped (SIGTERM, graceful) for 30 s mid-run: batches keep
 *    flowing to the other one during the outage (the agent's /status
 *    collectors[].delivered grows for it, not for the stopped one), the
 *    stopped one is probed back in after it returns, nothing is lost or
 *    duplicated.
 * b. Both collectors SIGKILLed for 60 s: the agent's spool grows (bytes and
 *    records, as /status shows them) while every collector shows unhealthy;
 *    after they return the spool drains to zero records and the union of the
 *    logs holds every line exactly once.
 *
 * The agent runs with its default delivery settings (retry and probe backoff
 * capped at 30 s), so the drain after an outage can take a while: the waits
 * are generous and no wall-clock time is asserted — drain times are reported
 * as diagnostics.
 *
 * LOGSHIP_E2E_KEEP=1 keeps the scratch directory (it is always kept on failure).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AgentStatus } from "../../agent/agent.ts";
import { cleanups, type Defer } from "../helpers/cleanups.ts";
import { agentSetup, collectorSetup, dumpLog, exactlyOnce, type AgentSetup, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";

const FILES = ["a", "b", "c", "d"];
/** Each writer appends this many lines every WRITE_TICK_MS (4 files: ~6,000 lines/s, ~0.4 MB/s in all). */
const LINES_PER_TICK = 150;
const WRITE_TICK_MS = 100;
/** Waits for the agent to catch up and deliver everything; generous (2 busy cores, retry backoff up to 30 s). */
const DRAIN_TIMEOUT_MS = 120_000;

interface Writers {
  /** Lines written so far, by file name. */
  counts: Record<string, number>;
  stop(): Promise<void>;
}

/** One writer per file, appending numbered lines (`file=<name> seq=<n> …`) until stopped. */
function startWriters(directory: string): Writers {
  const counts: Record<string, number> = {};
  const controller = new AbortController();
  const loops = FILES.map(async (name) => {
    counts[name] = 0;
    const path = join(directory, `${name}.log`);
    while (!controller.signal.aborted) {
      const first = counts[name] as number;
      let text = "";
      for (let seq = first; seq < first + LINES_PER_TICK; seq++) text += `file=${name} seq=${seq} the quick brown fox jumps over the lazy dog\n`;
      await appendFile(path, text);
      counts[name] = first + LINES_PER_TICK;
      await sleep(WRITE_TICK_MS);
    }
  });
  return {
    counts,
    async stop() {
      controller.abort();
      await Promise.all(loops);
    },
  };
}

async function agentStatus(agent: AgentSetup): Promise<AgentStatus> {
  const response = await fetch(`${agent.apiUrl}/status`);
  assert.equal(response.status, 200);
  return (await response.json()) as AgentStatus;
}

function deliveredTo(status: AgentStatus, collector: CollectorSetup): number {
  const entry = status.collectors.find((candidate) => candidate.url === collector.url);
  assert.ok(entry, `${collector.url} in the agent's status: ${JSON.stringify(status.collectors)}`);
  return entry.delivered;
}

/**
 * Wait until the agent has read every file to its end, every batch is
 * acknowledged (spool empty, nothing queued or in flight) and every
 * checkpoint is at the end. Returns how long that took.
 */
async function waitDrained(agent: AgentSetup, directory: string, what: string): Promise<{ ms: number; status: AgentStatus }> {
  const sizes = new Map<string, number>();
  for (const name of FILES) sizes.set(join(directory, `${name}.log`), (await stat(join(directory, `${name}.log`))).size);
  const started = Date.now();
  let status = await agentStatus(agent);
  for (;;) {
    const filesDone = [...sizes].every(([path, size]) => status.files.some((file) => file.path === path && file.readOffset === size && file.ackedOffset === size));
    if (filesDone && status.spool.records === 0 && status.batches.backlog === 0) return { ms: Date.now() - started, status };
    if (Date.now() - started > DRAIN_TIMEOUT_MS) {
      assert.fail(`${what}: the agent did not deliver everything within ${DRAIN_TIMEOUT_MS} ms; sizes ${JSON.stringify([...sizes])}; status ${JSON.stringify(status)}`);
    }
    await sleep(250);
    status = await agentStatus(agent);
  }
}

/** Stop the processes, dump both collectors' logs and check the union: every written line exactly once. */
async function checkUnion(t: TestContext, collectors: CollectorSetup[], counts: Record<string, number>): Promise<number[]> {
  const perCollector: number[] = [];
  const events = [];
  for (const collector of collectors) {
    const dumped = await dumpLog(collector.configPath);
    perCollector.push(dumped.length);
    for (const event of dumped) events.push(event);
  }
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const report = exactlyOnce(events, counts);
  t.diagnostic(`lines written ${total}; events per collector log ${JSON.stringify(perCollector)}; union ${events.length}`);
  assert.deepEqual({ missing: report.missing, duplicates: report.duplicates }, { missing: 0, duplicates: 0 }, report.examples.join("\n"));
  assert.equal(events.length, total, "the union of the logs holds exactly the written lines");
  return perCollector;
}

function lastLines(process: LogshipProcess | null, count = 15): string {
  return process === null ? "(not started)" : process.log.slice(-count).join("\n");
}

/**
 * A scratch directory, removed after the test unless it failed (`passed()` was not called) or LOGSHIP_E2E_KEEP=1;
 * `defer` registers cleanups that run before its removal (test/helpers/cleanups.ts).
 */
async function scratch(t: TestContext, name: string): Promise<{ directory: string; passed: () => void; defer: Defer }> {
  const directory = await mkdtemp(join(tmpdir(), `logship-e2e-${name}-`));
  let passed = false;
  const defer = cleanups(t);
  defer(async () => {
    if (!passed || process.env["LOGSHIP_E2E_KEEP"] === "1") t.diagnostic(`scratch directory kept: ${directory}`);
    else await rm(directory, { recursive: true, force: true });
  });
  return { directory, passed: () => (passed = true), defer };
}

/** Kill whatever is still running when a test ends (failed tests included). */
function reap(defer: Defer, setups: { process: LogshipProcess | null }[]): void {
  for (const setup of setups) defer(() => setup.process?.kill("SIGKILL"));
}

test("one collector of two stopped (SIGTERM) for 30 s: batches flow to the other, exactly once over both logs", { timeout: 240_000 }, async (t) => {
  const { directory, passed, defer } = await scratch(t, "outage-one");
  const logs = join(directory, "logs");
  const collectorA = await collectorSetup(join(directory, "collector-a"));
  const collectorB = await collectorSetup(join(directory, "collector-b"));
  const agent = await agentSetup(join(directory, "agent"), [collectorA.url, collectorB.url], [join(logs, "*.log")]);
  reap(defer, [agent, collectorA, collectorB]);
  await mkdir(logs, { recursive: true });

  await collectorA.start();
  await collectorB.start();
  await agent.start();
  const writers = startWriters(logs);
  try {
    await sleep(8_000);
    const before = await agentStatus(agent);
    assert.ok(deliveredTo(before, collectorA) > 0 && deliveredTo(before, collectorB) > 0, `both collectors take batches before the outage: ${JSON.stringify(before.collectors)}`);

    // Outage: A stops gracefully (finishes its in-flight batches, refuses new ones) and stays down 30 s.
    await collectorA.process?.kill("SIGTERM");
    const exitA = await collectorA.process?.exited;
    assert.equal(exitA?.code, 0, `collector A exits 0 on SIGTERM:\n${lastLines(collectorA.process)}`);
    const downStatus = await agentStatus(agent);
    const outageStarted = Date.now();
    await sleep(30_000);
    const upStatus = await agentStatus(agent);
    const toA = deliveredTo(upStatus, collectorA) - deliveredTo(downStatus, collectorA);
    const toB = deliveredTo(upStatus, collectorB) - deliveredTo(downStatus, collectorB);
    t.diagnostic(`during the ${Math.round((Date.now() - outageStarted) / 1000)} s outage: batches delivered to A ${toA}, to B ${toB}; A in status: ${JSON.stringify(upStatus.collectors[0])}`);
    assert.equal(toA, 0, "nothing is delivered to the stopped collector");
    // ~4 files × 1,500 lines/s for 30 s, linger 250 ms: well over 30 batches if they keep flowing.
    assert.ok(toB >= 30, `batches keep flowing to collector B during the outage (delivered ${toB})`);
    assert.ok(upStatus.spool.records < 40, `the spool does not pile up while B takes the batches: ${JSON.stringify(upStatus.spool)}`);
    assert.equal(upStatus.collectors.find((entry) => entry.url === collectorA.url)?.healthy, false, "the stopped collector is shown unhealthy");

    // A returns on the same port: the agent probes it back in and sends to it again.
    await collectorA.start();
    const returnedAt = Date.now();
    let backIn: AgentStatus = upStatus;
    while (deliveredTo(backIn, collectorA) === deliveredTo(upStatus, collectorA)) {
      assert.ok(Date.now() - returnedAt < 90_000, `collector A gets batches again after it returns: ${JSON.stringify(backIn.collectors)}\nagent:\n${lastLines(agent.process)}`);
      await sleep(250);
      backIn = await agentStatus(agent);
    }
    t.diagnostic(`collector A took batches again ${Date.now() - returnedAt} ms after it returned`);
    await sleep(3_000);
  } finally {
    await writers.stop();
  }
  const drained = await waitDrained(agent, logs, "after the outage");
  t.diagnostic(`drained ${drained.ms} ms after the writers stopped; batches ${JSON.stringify(drained.status.batches)}; collectors ${JSON.stringify(drained.status.collectors)}`);

  await agent.process?.kill("SIGTERM");
  await collectorA.process?.kill("SIGTERM");
  await collectorB.process?.kill("SIGTERM");
  const perCollector = await checkUnion(t, [collectorA, collectorB], writers.counts);
  assert.ok(perCollector.every((count) => count > 0), "both logs hold events");
  passed();
});

test("all collectors SIGKILLed for 60 s: the spool grows, then drains to zero; exactly once", { timeout: 300_000 }, async (t) => {
  const { directory, passed, defer } = await scratch(t, "outage-all");
  const logs = join(directory, "logs");
  await mkdir(logs, { recursive: true });
  const collectorA = await collectorSetup(join(directory, "collector-a"));
  const collectorB = await collectorSetup(join(directory, "collector-b"));
  const agent = await agentSetup(join(directory, "agent"), [collectorA.url, collectorB.url], [join(logs, "*.log")]);
  reap(defer, [agent, collectorA, collectorB]);

  await collectorA.start();
  await collectorB.start();
  await agent.start();
  const writers = startWriters(logs);
  const samples: { ms: number; bytes: number; records: number; healthy: number }[] = [];
  let backlogClearedMs = -1;
  try {
    await sleep(5_000);
    const before = await agentStatus(agent);
    assert.ok(before.batches.delivered > 0, `batches are delivered before the outage: ${JSON.stringify(before.batches)}`);

    await Promise.all([collectorA.process?.kill("SIGKILL"), collectorB.process?.kill("SIGKILL")]);
    const outageStarted = Date.now();
    while (Date.now() - outageStarted < 60_000) {
      await sleep(1_000);
      const status = await agentStatus(agent);
      samples.push({ ms: Date.now() - outageStarted, bytes: status.spool.bytes, records: status.spool.records, healthy: status.collectors.filter((entry) => entry.healthy).length });
    }
    const first = samples[0];
    const last = samples.at(-1);
    assert.ok(first !== undefined && last !== undefined);
    t.diagnostic(`spool during the outage: ${JSON.stringify(samples.filter((_, index) => index % 10 === 0 || index === samples.length - 1))}`);
    // The spool grows through the outage: a later sample holds more than an earlier one, in both bytes and records.
    const middle = samples[Math.floor(samples.length / 2)] as (typeof samples)[number];
    assert.ok(first.records < middle.records && middle.records < last.records, `spool records rise: ${first.records} → ${middle.records} → ${last.records}`);
    assert.ok(first.bytes < middle.bytes && middle.bytes < last.bytes, `spool bytes rise: ${first.bytes} → ${middle.bytes} → ${last.bytes}`);
    // 60 s of ~6,000 lines/s in batches of at most 250 ms: well over 100 batches wait.
    assert.ok(last.records >= 100, `the spool holds the undelivered batches: ${last.records} records`);
    assert.ok(samples.slice(5).every((sample) => sample.healthy === 0), `every collector shows unhealthy during the outage (after the first seconds): ${JSON.stringify(samples.map((sample) => sample.healthy))}`);

    // They return (same ports, same data): the agent probes them back in and the spooled backlog goes out
    // while the writers keep writing. "Backlog cleared": the spool is back to a few records (the new ones).
    await collectorA.start();
    await collectorB.start();
    const returnedAt = Date.now();
    for (;;) {
      const status = await agentStatus(agent);
      if (status.spool.records <= 5) {
        backlogClearedMs = Date.now() - returnedAt;
        break;
      }
      assert.ok(Date.now() - returnedAt < DRAIN_TIMEOUT_MS, `the spooled backlog goes out after the collectors return: ${JSON.stringify(status)}\nagent:\n${lastLines(agent.process)}`);
      await sleep(250);
    }
    await sleep(5_000);
  } finally {
    await writers.stop();
  }
  const peak = samples.reduce((max, sample) => (sample.bytes > max.bytes ? sample : max));
  const drained = await waitDrained(agent, logs, "after the collectors returned");
  t.diagnostic(
    `spool peak ${peak.bytes} bytes / ${peak.records} records; backlog cleared ${backlogClearedMs} ms after the collectors returned; ` +
      `after the writers stopped: drained to ${drained.status.spool.records} records (${drained.status.spool.bytes} bytes in ${drained.status.spool.segments} segment files) in ${drained.ms} ms; batches ${JSON.stringify(drained.status.batches)}`,
  );
  assert.equal(drained.status.spool.records, 0);

  await agent.process?.kill("SIGTERM");
  await collectorA.process?.kill("SIGTERM");
  await collectorB.process?.kill("SIGTERM");
  await checkUnion(t, [collectorA, collectorB], writers.counts);
  passed();
});
