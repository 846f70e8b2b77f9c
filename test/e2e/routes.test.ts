/**
 * Collector transforms and routes end to end (issue 11, docs/ROUTING.md),
 * with real processes: a `logship agent` with a drop and a redact step ships
 * numbered logfmt lines to a `logship collector` with transforms of its own
 * and three routes. Each stream's log, read with `logship log dump
 * --stream`, must hold exactly the events its condition selects (first
 * match wins, the rest in the default stream), none twice, none missing;
 * the archive sink, subscribed to one stream, holds only that stream; the
 * search index answers `stream:NAME` with that stream's events.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFile, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { zstdDecompressSync } from "node:zlib";
import type { Event } from "../../shared/event.ts";
import { cleanups } from "../helpers/cleanups.ts";
import { LOGSHIP, REPO, agentSetup, collectorSetup, until, waitDelivered } from "../helpers/processes.ts";
import { AGENT_SOURCE_YAML, collectorRoutesYaml, expectedStreams, orderLine, orderSeq } from "../helpers/routed-lines.ts";

const execFileAsync = promisify(execFile);
const LINES = 1200;
const LINES_PER_WRITE = 100;
const DELIVERY_TIMEOUT_MS = 90_000;
const SEARCH_TOKEN = "e2e-search-token";
const COLLECTOR_YAML = `  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }
${collectorRoutesYaml({ auditRetention: true })}sinks:
  archive: { format: ndjson, streams: [payments], roll: { max_age: 1s } }
`;

async function dumpStream(configPath: string, stream: string): Promise<Event[]> {
  const { stdout } = await execFileAsync(process.execPath, [LOGSHIP, "log", "dump", "--config", configPath, "--stream", stream], { cwd: REPO, maxBuffer: 1 << 28 });
  return stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Event);
}

function seqOf(event: Event): number {
  return orderSeq(event.message);
}

/** Every line in archive files under `root`, parsed. */
async function archivedEvents(root: string): Promise<Event[]> {
  const events: Event[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ndjson.zst")) continue;
    const text = zstdDecompressSync(await readFile(join(entry.parentPath, entry.name))).toString("utf8");
    for (const line of text.split("\n")) if (line !== "") events.push(JSON.parse(line) as Event);
  }
  return events;
}

async function searchCount(url: string, query: string): Promise<number> {
  const response = await fetch(`${url}/v1/search?${new URLSearchParams({ q: query, limit: "10000", since: "2000-01-01T00:00:00Z" })}`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
  const body = (await response.json()) as { events: Event[] };
  return body.events.length;
}

test("agent filter + redact, collector transforms + three routes: each stream's log holds exactly its events; the archive subscribed to one stream holds only it", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-routes-"));
  const defer = cleanups(t);
  defer(() => rm(directory, { recursive: true, force: true, maxRetries: 5 }));
  const collector = await collectorSetup(join(directory, "collector"), COLLECTOR_YAML);
  const collectorProcess = await collector.start();
  defer(() => collectorProcess.kill());
  const file = join(directory, "orders.log");
  const agent = await agentSetup(join(directory, "agent"), [collector.url], [file], AGENT_SOURCE_YAML);
  const agentProcess = await agent.start();
  defer(() => agentProcess.kill());

  for (let seq = 0; seq < LINES; seq += LINES_PER_WRITE) {
    const lines = Array.from({ length: LINES_PER_WRITE }, (_, index) => orderLine(seq + index));
    await appendFile(file, lines.join(""));
  }
  await waitDelivered(agent, [file], DELIVERY_TIMEOUT_MS);

  const expected = expectedStreams(LINES);
  assert.deepEqual([...expected.keys()].sort(), ["audit", "default", "errors", "payments"]);
  const ids = new Set<string>();
  for (const [stream, seqs] of expected) {
    const events = await dumpStream(collector.configPath, stream);
    assert.deepEqual(events.map(seqOf).sort((a, b) => a - b), seqs, `stream ${stream}: exactly the events its route selects, each once`);
    for (const event of events) {
      assert.equal(event.stream, stream === "default" ? undefined : stream, "log dump names the stream of a routed event");
      assert.equal(event.fields["collector"], "e2e-host", "the collector's set step ran");
      assert.ok(!event.message.includes("@example.com") && event.message.includes("[REDACTED:email]"), event.message);
      assert.equal(event.fields["user"], "[REDACTED:email]");
      assert.ok(!ids.has(event.id), `event id ${event.id} in one stream only`);
      ids.add(event.id);
    }
  }
  const streamDirectories = (await readdir(join(collector.dataDir, "log"))).sort();
  assert.deepEqual(streamDirectories, ["default", "default@audit", "default@errors", "default@payments"]);

  // The search sink reads every stream; `stream:` restricts a query to one.
  const payments = expected.get("payments") ?? [];
  await until("search index holds every routed event", 60_000, async () => ((await searchCount(collector.url, "*")) === ids.size ? true : undefined));
  assert.equal(await searchCount(collector.url, "stream:payments"), payments.length);
  assert.equal(await searchCount(collector.url, "stream:default"), expected.get("default")?.length);
  assert.equal(await searchCount(collector.url, "stream:errors AND level:error"), expected.get("errors")?.length);

  // Stopping the collector commits the archive's open files.
  await agentProcess.kill();
  await collectorProcess.kill();
  const archived = await archivedEvents(join(collector.dataDir, "archive"));
  assert.deepEqual(archived.map(seqOf).sort((a, b) => a - b), payments, "the archive subscribed to payments holds exactly that stream");
  assert.ok(archived.every((event) => event.stream === "payments"));
});

