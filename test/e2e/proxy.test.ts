/**
 * Delivery acceptance (issue 3): a fault-injecting TCP proxy
 * (test/helpers/fault-proxy.ts) between a real `logship agent` and a real
 * `logship collector` delays chunks, cuts requests off part-way through and
 * loses responses after the collector stored the batch. The agent tails 4
 * files × 50,000 numbered lines; every line must be in the collector's log
 * exactly once (counted with `logship log dump`), each kind of fault must
 * have happened several times, and the collector must have recognised
 * re-sent batches as duplicates (the lost responses).
 *
 * Small batches (32 KiB) make a few hundred requests, so each kind of fault
 * happens often. Replay: LOGSHIP_E2E_SEED=<seed> (printed as a diagnostic)
 * repeats the proxy's decisions (their timing still varies).
 * LOGSHIP_E2E_KEEP=1 keeps the scratch directory (always kept on failure).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultProxy } from "../helpers/fault-proxy.ts";
import { agentSetup, collectorSetup, dumpLog, exactlyOnce, waitDelivered, type LogshipProcess } from "../helpers/processes.ts";

const SEED = process.env.LOGSHIP_E2E_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.LOGSHIP_E2E_SEED);
const KEEP = process.env.LOGSHIP_E2E_KEEP === "1";
const NAMES = ["a", "b", "c", "d"];
const LINES_PER_FILE = 50_000;
const BURSTS = 50;
const PAUSE_MS = 150;
/** Each kind of fault must have happened at least this often. */
const FAULTS_MIN = 3;
const DELIVERY_TIMEOUT_MS = 150_000;
const PADDING = "the quick brown fox jumps over the lazy dog";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));



test("exactly once through a proxy that delays, cuts requests off and loses responses", { timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "logship-e2e-proxy-"));
  let passed = false;
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const paths = NAMES.map((name) => join(logsDir, `${name}.log`));
  for (const path of paths) await writeFile(path, "");
  const collector = await collectorSetup(join(dir, "collector"));
  const collectorProcess = await collector.start();
  const proxy = await FaultProxy.start({
    targetHost: "127.0.0.1",
    targetPort: collector.port,
    seed: SEED,
    delayChance: 0.1,
    delayMaxMs: 150,
    dropMidRequestChance: 0.1,
    loseResponseChance: 0.1,
  });
  const agent = await agentSetup(join(dir, "agent"), [proxy.url], [join(logsDir, "*.log")], "batch: { max_bytes: 32KiB }");
  let agentProcess: LogshipProcess | null = null;
  try {
    agentProcess = await agent.start();
    const startedMs = Date.now();
    await Promise.all(
      paths.map(async (path, index) => {
        const name = NAMES[index] as string;
        const perBurst = LINES_PER_FILE / BURSTS;
        for (let burst = 0; burst < BURSTS; burst++) {
          let text = "";
          for (let seq = burst * perBurst; seq < (burst + 1) * perBurst; seq++) text += `file=${name} seq=${seq} ${PADDING}\n`;
          await appendFile(path, text);
          await sleep(PAUSE_MS);
        }
      }),
    );
    const wroteMs = Date.now();
    // Faults go on while the backlog drains: every retry goes through the proxy too.
    const status = await waitDelivered(agent, paths, DELIVERY_TIMEOUT_MS);
    const deliveredMs = Date.now();

    await agentProcess.kill("SIGTERM");
    assert.deepEqual(await agentProcess.exited, { code: 0, signal: null }, `agent exit on SIGTERM; last log:\n${agentProcess.log.slice(-10).join("\n")}`);
    await collectorProcess.kill("SIGTERM");
    assert.deepEqual(await collectorProcess.exited, { code: 0, signal: null }, `collector exit on SIGTERM; last log:\n${collectorProcess.log.slice(-10).join("\n")}`);

    const events = await dumpLog(collector.configPath);
    const report = exactlyOnce(events, Object.fromEntries(NAMES.map((name) => [name, LINES_PER_FILE])));
    const counts = proxy.counts;
    t.diagnostic(
      `seed ${SEED}; ${NAMES.length * LINES_PER_FILE} lines written in ${wroteMs - startedMs} ms, all acknowledged ${deliveredMs - wroteMs} ms later; ` +
        `proxy: ${counts.connections} connections, ${counts.requests} requests, ${counts.delays} chunks delayed, ${counts.droppedMidRequest} requests cut off, ` +
        `${counts.lostResponses} responses (200) lost after the collector answered, ${counts.lostOtherResponses} other responses lost, ${counts.faultsNotCarriedOut} faults not carried out; ` +
        `agent: ${status.batches.delivered} batches delivered, ${status.batches.duplicates} acknowledged as duplicates, ${status.batches.retries} retries, ${status.batches.rejected} rejected; ` +
        `log: ${events.length} events, missing ${report.missing}, duplicates ${report.duplicates}`,
    );
    assert.equal(report.missing, 0, `missing lines (seed ${SEED}): ${report.examples.join(", ")}`);
    assert.equal(report.duplicates, 0, `duplicate lines (seed ${SEED}): ${report.examples.join(", ")}`);
    assert.equal(events.length, NAMES.length * LINES_PER_FILE, "events in the log");
    assert.ok(counts.delays >= FAULTS_MIN, `chunks delayed: ${counts.delays}`);
    assert.ok(counts.droppedMidRequest >= FAULTS_MIN, `requests cut off: ${counts.droppedMidRequest}`);
    assert.ok(counts.lostResponses >= FAULTS_MIN, `responses lost after the batch was stored: ${counts.lostResponses}`);
    // A lost 200 makes the agent send that batch again; the collector must recognise it.
    assert.ok(status.batches.duplicates >= 1, `batches acknowledged as duplicates: ${status.batches.duplicates}`);
    assert.equal(status.batches.rejected, 0, "no batch rejected");
    passed = true;
  } finally {
    await agentProcess?.kill("SIGKILL");
    await collectorProcess.kill("SIGKILL");
    await proxy.close();
    if (passed && !KEEP) await rm(dir, { recursive: true, force: true });
    else {
      if (agentProcess !== null) await writeFile(join(dir, "agent.log"), agentProcess.log.join("\n") + "\n");
      await writeFile(join(dir, "collector.log"), collectorProcess.log.join("\n") + "\n");
      t.diagnostic(`scratch directory kept (with the agent's and collector's logs): ${dir}`);
    }
  }
});
