/**
 * Ingest with collector routes against the real embedded log: each stream's
 * part goes to its own log, and exactly once holds when storing fails (or
 * the collector crashes) between two streams' appends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import { transformsSchema } from "../../agent/transforms/schema.ts";
import { payloadEvents } from "../../shared/wire/batch.ts";
import { LogError } from "../log/errors.ts";
import { EmbeddedLog } from "../log/log.ts";
import type { AppendInput, Appended } from "../log/tenant-log.ts";
import { routesSchema } from "../routing/schema.ts";
import { makeBatch } from "../testing/batches.ts";
import { recordingLogger } from "../testing/recording-logger.ts";
import { DedupeIndex } from "./dedupe.ts";
import { IngestError } from "./errors.ts";
import { IngestService, type BatchLog } from "./service.ts";

const processing = {
  transforms: transformsSchema.parse([{ drop: "noise" }]),
  routes: routesSchema.parse([
    { stream: "payments", when: "purchase OR top_up" },
    { stream: "errors", when: "error" },
  ]),
};

const LINES = ["purchase 1", "error 2", "noise 3", "hello 4", "top_up 5", "error 6", "hello 7"];
const EXPECTED: Record<string, string[]> = { payments: ["purchase 1", "top_up 5"], errors: ["error 2", "error 6"], default: ["hello 4", "hello 7"] };

/** A log that refuses the appends of one log name while `failing` is set, as a full disk on that stream would. */
class FlakyLog implements BatchLog {
  failing: string | null = null;
  readonly log: EmbeddedLog;
  constructor(log: EmbeddedLog) {
    this.log = log;
  }
  append(name: string, input: AppendInput): Promise<Appended> {
    if (name === this.failing) return Promise.reject(new LogError("LOGSHIP_LOG_UNAVAILABLE", `no space left for ${name}`));
    return this.log.append(name, input);
  }
}

async function messages(log: EmbeddedLog, name: string): Promise<string[]> {
  const result: string[] = [];
  for await (const entry of log.read(name, {})) for (const event of payloadEvents(zstdDecompressSync(entry.batch))) result.push(event.message);
  return result;
}

async function openLog(directory: string): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory, segmentBytes: 1 << 20, fsyncIntervalMs: 0, logger: recordingLogger([]) });
}

function service(log: BatchLog, dedupe: DedupeIndex): IngestService {
  return new IngestService({ log, dedupe, limits: { batchBytesMax: 1 << 20, eventsMax: 1000 }, decompressConcurrency: 2, decodeThreads: 1, logger: recordingLogger([]), processing });
}

test("routed ingest: each stream's log holds exactly its events; a failure between two streams' appends is filled in by the retry, nothing twice", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-routed-"));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const log = await openLog(directory);
  const flaky = new FlakyLog(log);
  const dedupe = new DedupeIndex(recordingLogger([]));
  const ingest = service(flaky, dedupe);
  t.after(() => ingest.close());
  const batch = makeBatch({ seq: 1, lines: LINES });

  flaky.failing = "default@payments";
  const refused = await ingest.ingest("default", batch.body).catch((error: unknown) => error);
  assert.ok(refused instanceof IngestError && refused.code === "LOGSHIP_LOG_UNAVAILABLE", String(refused));
  assert.deepEqual(await messages(log, "default@payments"), [], "the failed stream holds nothing");

  flaky.failing = null;
  const retried = await ingest.ingest("default", batch.body);
  assert.equal(retried.kind, "stored");
  assert.deepEqual(
    retried.streams?.map((stream) => [stream.stream, stream.events, stream.duplicate]),
    [["default", 2, true], ["errors", 2, true], ["payments", 2, false]],
    "only the missing part is appended",
  );
  const again = await ingest.ingest("default", batch.body);
  assert.equal(again.kind, "duplicate");
  for (const [stream, expected] of Object.entries(EXPECTED)) assert.deepEqual(await messages(log, stream === "default" ? "default" : `default@${stream}`), expected, stream);
  assert.deepEqual(log.tenants(), ["default", "default@errors", "default@payments"]);
  await log.close();
});

test("routed ingest: after a crash between two streams' appends, the rebuilt idempotence table lets the re-sent batch fill in only what is missing", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-routed-"));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const batch = makeBatch({ seq: 5, floor: 5, lines: LINES });
  const first = await openLog(directory);
  const flaky = new FlakyLog(first);
  flaky.failing = "default@errors";
  const before = service(flaky, new DedupeIndex(recordingLogger([])));
  await assert.rejects(before.ingest("default", batch.body), (error: unknown) => error instanceof IngestError);
  await before.close();
  await first.destroy(); // the crash: files dropped as they are

  const log = await openLog(directory);
  const dedupe = new DedupeIndex(recordingLogger([]));
  for (const name of log.tenants()) for await (const header of log.headers(name)) dedupe.noteStored(name, header.agent, header.seq, header.floor, header.baseOffset);
  const after = service(log, dedupe);
  t.after(() => after.close());
  const outcome = await after.ingest("default", batch.body);
  assert.deepEqual(outcome.streams?.map((stream) => [stream.stream, stream.duplicate]), [["default", true], ["errors", false], ["payments", true]]);
  for (const [stream, expected] of Object.entries(EXPECTED)) assert.deepEqual(await messages(log, stream === "default" ? "default" : `default@${stream}`), expected, stream);
  assert.deepEqual((await readdir(directory)).sort(), ["default", "default@errors", "default@payments"]);
  await log.close();
});

test("routed ingest: two copies of a batch at once store each part once", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-routed-"));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const log = await openLog(directory);
  const ingest = service(log, new DedupeIndex(recordingLogger([])));
  t.after(() => ingest.close());
  const batch = makeBatch({ seq: 9, lines: LINES });
  const outcomes = await Promise.all([ingest.ingest("default", batch.body), ingest.ingest("default", batch.body)]);
  assert.deepEqual(outcomes.map((outcome) => outcome.kind).sort(), ["duplicate", "stored"]);
  for (const [stream, expected] of Object.entries(EXPECTED)) assert.deepEqual(await messages(log, stream === "default" ? "default" : `default@${stream}`), expected, stream);
  await log.close();
});
