/**
 * The agent's deferred optimizing compilers (agent/optimizing-compilers.ts),
 * on real processes: an agent started as its role starts it
 * (`--turbo-filter=-* --maglev-filter=-*`, packaging/node-options.json) keeps them off
 * while its file is quiet, reports so in /status, and turns them on once
 * it reads a burst; an agent started on Node's defaults defers nothing.
 * What this saves and costs is printed by bench/delivery.bench.ts
 * (idle_files and ship: docs/BENCHMARKS.md).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanups } from "../helpers/cleanups.ts";
import { agentSetup, agentStatus, collectorSetup, LOGSHIP, startLogship, until, waitDelivered } from "../helpers/processes.ts";

test("an agent started with its compilers off turns them on at a burst of reads, and not before", async (t) => {
  const defer = cleanups(t);
  const dir = await mkdtemp(join(tmpdir(), "logship-compilers-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  const collector = await collectorSetup(join(dir, "collector"));
  const collectorProcess = await collector.start();
  defer(() => collectorProcess.kill());
  const file = join(dir, "app.log");
  await writeFile(file, "one quiet line\n");
  const agent = await agentSetup(join(dir, "agent"), [collector.url], [file]);
  const agentProcess = startLogship(["agent", "--config", agent.configPath, "--log-format", "json"], {}, LOGSHIP, ["--turbo-filter=-*", "--maglev-filter=-*"]);
  agent.process = agentProcess;
  defer(() => agentProcess.kill());
  await agentProcess.waitForLog(/agent API listening/, 30_000);

  await waitDelivered(agent, [file], 30_000);
  const quiet = await agentStatus(agent);
  assert.equal(quiet?.runtime.optimizing_compilers, "deferred", "a quiet file is no load");

  // 4 MiB at once: load.
  const line = `${"x".repeat(1023)}\n`;
  await appendFile(file, line.repeat(4096));
  await agentProcess.waitForLog(/load: optimizing compilers on/, 30_000);
  const busy = await until("the status to say on", 10_000, async () => {
    const status = await agentStatus(agent);
    return status?.runtime.optimizing_compilers === "on" ? status : undefined;
  });
  assert.equal(busy.runtime.optimizing_compilers, "on");
  assert.match(agentProcess.log.find((entry) => /optimizing compilers on/.test(entry)) ?? "", /"flags":"--turbo-filter=\* --maglev-filter=\*"/);
  await waitDelivered(agent, [file], 60_000);
});

test("an agent started on Node's defaults defers nothing", async (t) => {
  const defer = cleanups(t);
  const dir = await mkdtemp(join(tmpdir(), "logship-compilers-"));
  defer(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "app.log");
  await writeFile(file, "one line\n");
  // No collector: the line waits in the spool, which is all this test needs.
  const agent = await agentSetup(join(dir, "agent"), ["http://127.0.0.1:9"], [file], "delivery: { shutdown_timeout: 1s }");
  const agentProcess = await agent.start();
  defer(() => agentProcess.kill());
  const status = await until("the status", 10_000, async () => (await agentStatus(agent)) ?? undefined);
  assert.equal(status.runtime.optimizing_compilers, "not_deferred");
});
