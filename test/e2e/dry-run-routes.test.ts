/**
 * `--dry-run` shows transformed events at both ends (issue 11): the agent's
 * dry run prints its transforms' output, and `logship collector --dry-run`
 * reads that NDJSON and prints what the collector's transforms and routes
 * make of it, each event with its stream, storing nothing. The real CLI,
 * in subprocesses.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { runLogship } from "../helpers/processes.ts";
import { AGENT_SOURCE_YAML, collectorRoutesYaml, expectedStreams, orderLine, orderSeq } from "../helpers/routed-lines.ts";

const LINES = 120;

function parsed(stdout: string): Event[] {
  return stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Event);
}

test("agent --dry-run | collector --dry-run: each event as the collector's transforms leave it, with the stream its route gives; nothing stored", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-dry-routes-"));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const file = join(directory, "orders.log");
  await writeFile(file, Array.from({ length: LINES }, (_, seq) => orderLine(seq)).join(""));
  const agentConfig = join(directory, "agent.yaml");
  await writeFile(agentConfig, `data_dir: ${join(directory, "agent")}\nhost: e2e-host\ncollectors: [http://127.0.0.1:9]\nsources:\n  - name: orders\n    paths: [${JSON.stringify(file)}]\n    start_at: beginning\n${AGENT_SOURCE_YAML}`);
  const collectorConfig = join(directory, "collector.yaml");
  const dataDir = join(directory, "collector");
  await writeFile(collectorConfig, `listen: 127.0.0.1:0\ndata_dir: ${dataDir}\n${collectorRoutesYaml({ auditRetention: true })}`);

  const agentRun = await runLogship(["agent", "--config", agentConfig, "--dry-run", "--once"]);
  assert.equal(agentRun.code, 0, agentRun.stderr);
  const agentEvents = parsed(agentRun.stdout);
  assert.ok(agentEvents.length > 0 && agentEvents.every((event) => event.fields["level"] !== "debug" && event.message.includes("[REDACTED:email]")), "the agent's dry run shows its drop and redact");
  const input = join(directory, "events.ndjson");
  await writeFile(input, agentRun.stdout + "not an event\n");

  const collectorRun = await runLogship(["collector", "--config", collectorConfig, "--dry-run", "--input", input]);
  assert.equal(collectorRun.code, 1, "a line that is not an event makes the run fail, after the others were printed");
  assert.match(collectorRun.stderr, new RegExp(`input line ${agentEvents.length + 1}: not JSON`));
  const events = parsed(collectorRun.stdout);
  const expected = expectedStreams(LINES);
  for (const stream of ["payments", "errors", "audit", "default"]) {
    const found = events.filter((event) => (event.stream ?? "default") === stream).map((event) => orderSeq(event.message));
    assert.deepEqual(found, expected.get(stream), `stream ${stream}`);
  }
  assert.ok(events.every((event) => event.fields["collector"] === "e2e-host" && event.fields["event"] !== "search"), "the collector's set and drop ran");
  assert.match(collectorRun.stderr, /dry run: \d+ events read, \d+ dropped by the transforms, \d+ kept \(/);
  await assert.rejects(readdir(dataDir), "a dry run creates no data directory");
});
