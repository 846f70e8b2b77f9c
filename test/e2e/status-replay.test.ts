/**
 * `logship status` and `logship replay` as an operator runs them: the real
 * CLI against a real collector process. The first collector is
 * `logship collector` itself, with a kafka sink whose broker is not there
 * (a failing sink, visible in status); the second adds recording sinks
 * (test/helpers/recording-collector.ts) so a replay's re-delivery can be
 * watched from outside.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBatch, numberedLines } from "../../collector/testing/batches.ts";
import type { CollectorStatusJson } from "../../collector/admin/status.ts";
import { INGEST_TOKEN, REPO, collectorSetup, freePort, runLogship as logship, startLogship, until, type CliRun } from "../helpers/processes.ts";
import { cleanups, type Defer } from "../helpers/cleanups.ts";

const ADMIN_TOKEN = "e2e-admin-token";
const SEARCH_TOKEN = "e2e-search-token";
const RECORDING_COLLECTOR = join(REPO, "test", "helpers", "recording-collector.ts");
/** Operator tokens beside the ingest token collectorSetup writes (the YAML list goes on). */
const OPERATOR_TOKENS = `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }\n  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }\n`;

/** A directory removed after the test, once the cleanups deferred after it (the processes) ran. */
function temporaryDirectory(t: TestContext): { directory: string; defer: Defer } {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-status-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  return { directory, defer };
}

/** Three batches of 100 events to tenant default, observed at `firstObservedMs` + 0, 60, 120 s. */
async function sendBatches(url: string, firstObservedMs: number): Promise<void> {
  for (let seq = 1; seq <= 3; seq++) {
    const batch = makeBatch({ seq, lines: numberedLines(`batch ${seq} line`, 0, 100), streamKey: `e${String(seq).padStart(15, "0")}------`, observedMs: firstObservedMs + (seq - 1) * 60_000 });
    const response = await fetch(`${url}/v1/ingest`, { method: "POST", headers: { authorization: `Bearer ${INGEST_TOKEN}`, "content-encoding": "zstd" }, body: batch.body });
    assert.equal(response.status, 200, await response.text());
  }
}

test("logship status against a real collector: its ingest, log and a failing sink's lag and last error; --json; which tokens may read it", async (t) => {
  const { directory, defer } = temporaryDirectory(t);
  // A kafka sink whose broker port nobody listens on: the sink runner retries and its lag grows.
  const deadBroker = `127.0.0.1:${await freePort()}`;
  const setup = await collectorSetup(directory, `${OPERATOR_TOKENS}sinks:\n  kafka: { brokers: ["${deadBroker}"], topic: events, timeout: 500ms }\n`);
  const collector = await setup.start();
  defer(() => collector.kill());
  await sendBatches(setup.url, Date.now());

  // --config: the address and an admin token come from the collector's config.
  // The embedded search sink (the default) delivers everything meanwhile.
  const table = await until("the kafka sink's failure and the search sink's delivery to show in status", 30_000, async () => {
    const run = await logship(["status", "--config", setup.configPath]);
    assert.equal(run.code, 0, run.stderr);
    return /Kafka topic events/.test(run.stdout) && /^search\s+default\s+\S+\s+300\s+300\s+0\s/m.test(run.stdout) ? run.stdout : undefined;
  });
  assert.match(table, new RegExp(`^collector ${setup.url}: logship \\d+\\.\\d+\\.\\d+, up .*, ready; showing every tenant \\(token role admin\\)$`, "m"));
  assert.match(table, /^ingest since start: 3 batches, 300 events, /m);
  assert.match(table, /^tenant\s+batches\/s\s+bytes\/s\s+batches\s+events\s+log size\s+segments\s+first offset\s+next offset$/m);
  assert.match(table, /^default\s+\S+\s+\S+ \S+\/s\s+3\s+300\s+\S+ \S+\s+1\s+0\s+300$/m);
  assert.match(table, /^kafka\s+default\s+(backing-off|sending|reading)\s+0\s+300\s+300\s+\d+(\.\d)? (B|KiB)\s+\S+.*Kafka topic events: /m);

  // --server with a search token: the raw JSON, scoped to the token's tenant.
  const json = await logship(["status", "--server", setup.url, "--token", SEARCH_TOKEN, "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout) as CollectorStatusJson;
  assert.deepEqual(status.scope, { role: "search", tenants: "default" });
  assert.deepEqual(
    status.sinks.map((sink) => [sink.sink, sink.tenant, sink.committed_offset, sink.lag.events]),
    [
      ["kafka", "default", 0, 300],
      ["search", "default", 300, 0],
    ],
  );
  assert.ok((status.sinks[0]?.lag.bytes ?? 0) > 0);
  assert.equal(status.tenants[0]?.ingest.events_total, 300);

  // LOGSHIP_TOKEN supplies the token; an ingest token may not read status; no token at all is told how to give one.
  const ingest = await logship(["status", "--server", setup.url], { LOGSHIP_TOKEN: INGEST_TOKEN });
  assert.deepEqual([ingest.code, ingest.stderr], [2, `logship: ${setup.url} answered 403: token role "ingest" may not do this (needs admin or search)\n`]);
  const anonymous = await logship(["status", "--server", setup.url]);
  assert.equal(anonymous.code, 2);
  assert.match(anonymous.stderr, /the collector needs a token: pass --token, set LOGSHIP_TOKEN, or use --config/);
  const fromEnv = await logship(["status", "--server", setup.url, "--json"], { LOGSHIP_TOKEN: ADMIN_TOKEN });
  assert.equal((JSON.parse(fromEnv.stdout) as CollectorStatusJson).scope.tenants, "all");

  // Replay refusals, each one line naming what to do.
  const replay = (...args: string[]): Promise<CliRun> => logship(["replay", "--config", setup.configPath, ...args]);
  const unknownSink = await replay("--sink", "archive", "--from", "0");
  assert.deepEqual([unknownSink.code, unknownSink.stderr], [2, `logship: ${setup.url} answered 404: unknown sink "archive"; known sinks: search, kafka\n`]);
  const unknownTenant = await replay("--sink", "kafka", "--from", "0", "--tenant", "payments");
  assert.deepEqual([unknownTenant.code, unknownTenant.stderr], [2, `logship: ${setup.url} answered 404: tenant "payments" has no log on this collector; tenants with a log: default\n`]);
  const beyond = await replay("--sink", "kafka", "--from", "301");
  assert.deepEqual([beyond.code, beyond.stderr], [2, `logship: ${setup.url} answered 400: offset 301 is beyond the end of tenant default's log (its next offset is 300)\n`]);
  const badTime = await replay("--sink", "kafka", "--from", "yesterday");
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /^logship: --from: expected an offset \(1200\), an RFC 3339 time \(2025-06-01T12:00:00Z\) or a duration ago \(15m, 2h\); got "yesterday"\n$/);
  const searchToken = await logship(["replay", "--server", setup.url, "--token", SEARCH_TOKEN, "--sink", "kafka", "--from", "0"]);
  assert.deepEqual([searchToken.code, searchToken.stderr], [2, `logship: ${setup.url} answered 403: token role "search" may not do this (needs admin)\n`]);
  // The failing sink has confirmed nothing: there is nothing to re-deliver, and it says so.
  const nothing = await replay("--sink", "kafka", "--from", "0");
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.equal(nothing.stdout, "sink kafka, tenant default: nothing to replay from offset 0; the sink has not confirmed past it yet (committed offset 0) and delivers from there anyway\n");
});

test("logship replay re-delivers a range of a running collector's log to one sink, from an offset or a time; the sink holds each event once", async (t) => {
  const { directory, defer } = temporaryDirectory(t);
  const setup = await collectorSetup(directory, OPERATOR_TOKENS);
  const recordDirectory = join(directory, "sent");
  await mkdir(recordDirectory);
  const collector = startLogship([setup.configPath, recordDirectory, "search", "archive"], {}, RECORDING_COLLECTOR);
  defer(() => collector.kill());
  await collector.waitForLog(/listening/, 30_000);
  const firstObservedMs = Date.parse("2026-03-01T10:00:00Z");
  await sendBatches(setup.url, firstObservedMs);
  const sent = async (sink: string): Promise<string[]> => (await readFile(join(recordDirectory, `${sink}.sent`), "utf8").catch(() => "")).split("\n").filter((line) => line !== "");
  const firstRound = await until("both sinks to get all 300 events", 30_000, async () => ((await sent("search")).length === 300 && (await sent("archive")).length === 300 ? sent("search") : undefined));

  const byOffset = await logship(["replay", "--config", setup.configPath, "--sink", "search", "--from", "100"]);
  assert.equal(byOffset.code, 0, byOffset.stderr);
  assert.equal(
    byOffset.stdout,
    "sink search, tenant default: committed offset moved back from 300 to 100; 200 events are delivered again from offset 100 (log end 300). The sink drops events it already holds by id, so nothing is stored twice.\n",
  );
  const search = await until("the replayed range to reach the search sink", 30_000, async () => {
    const lines = await sent("search");
    return lines.length === 500 ? lines : undefined;
  });
  // Exactly offsets 100..299 came again, in order; every event is there once as far as an idempotent sink is concerned.
  assert.deepEqual(search.slice(300), firstRound.slice(100));
  assert.equal(new Set(search).size, 300);
  assert.equal((await sent("archive")).length, 300, "the other sink got nothing again");

  // From a time, through --server and LOGSHIP_TOKEN: the third batch was observed at 10:02, so 10:01:30 starts there (offset 200).
  const byTime = await logship(["replay", "--server", setup.url, "--sink", "archive", "--from", "2026-03-01T10:01:30Z", "--json"], { LOGSHIP_TOKEN: ADMIN_TOKEN });
  assert.equal(byTime.code, 0, byTime.stderr);
  assert.deepEqual(JSON.parse(byTime.stdout), { sink: "archive", tenant: "default", from_offset: 200, previous_offset: 300, committed_offset: 200, end_offset: 300, replayed_events: 100 });
  const archive = await until("the archive sink to get offsets 200..299 again", 30_000, async () => {
    const lines = await sent("archive");
    return lines.length === 400 ? lines : undefined;
  });
  assert.deepEqual(archive.slice(300), archive.slice(200, 300));

  const status = await logship(["status", "--config", setup.configPath, "--json"]);
  assert.deepEqual(
    (JSON.parse(status.stdout) as CollectorStatusJson).sinks.map((sink) => [sink.sink, sink.committed_offset, sink.lag.events, sink.replays]),
    [
      ["archive", 300, 0, 1],
      ["search", 300, 0, 1],
    ],
  );
});
