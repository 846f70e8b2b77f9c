/**
 * How often the tailer looks at quiet files (docs/TAILING.md, "Polling"): a
 * file with no change is polled less and less often, down to once per
 * `statIntervalMaxMs` (tail.max_backoff), and a file event wakes it at once.
 *
 * In-process over real files. No wall-clock assertion: the tests wait for
 * states (a poll interval, an event) with generous deadlines and compare the
 * tailer's poll counter before and after.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTailer, testSource, waitFor } from "../../test/helpers/tail-harness.ts";
import { cleanups } from "../../test/helpers/cleanups.ts";

/** A rescan interval no test waits for: whatever is found in time was found another way. */
const NEVER_MS = 600_000;
/** Deadline for a line to arrive or an interval to be reached: generous, the machine may be busy. */
const DEADLINE_MS = 20_000;

function scratch(defer: (cleanup: () => unknown) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "logship-poll-"));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("without file events, a quiet file backs off to max_backoff and a line written then is still read, by a poll", async (t) => {
  const defer = cleanups(t);
  const dir = scratch(defer);
  const path = join(dir, "quiet.log");
  writeFileSync(path, "first\n");
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], watch: false, tail: { rescanIntervalMs: NEVER_MS, statIntervalMs: 20, statIntervalMaxMs: 320 } });
  defer(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 1, DEADLINE_MS, "the first line");
  await waitFor(() => tailer.tailer.status()[0]?.pollIntervalMs === 320, DEADLINE_MS, "the poll interval at max_backoff");
  const pollsBefore = tailer.tailer.filePolls;
  appendFileSync(path, "second\n");
  await waitFor(() => tailer.output.events.length === 2, DEADLINE_MS, "the line written while backed off");
  assert.deepEqual(tailer.output.events.map((event) => event.message), ["first", "second"]);
  assert.ok(tailer.tailer.filePolls > pollsBefore, "no file events: a poll found the new line");
  // Once it changed, the file is polled at the base interval again (then backs off anew).
  assert.ok((tailer.tailer.status()[0]?.pollIntervalMs ?? Infinity) < 320);
});

test("a file event wakes a backed-off file at once: its line is read before its next poll", async (t) => {
  const defer = cleanups(t);
  const dir = scratch(defer);
  const path = join(dir, "woken.log");
  writeFileSync(path, "first\n");
  // max_backoff far beyond the test: once backed off, the file is not polled again while the test waits.
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], tail: { rescanIntervalMs: NEVER_MS, statIntervalMs: 50, statIntervalMaxMs: NEVER_MS } });
  defer(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 1, DEADLINE_MS, "the first line");
  await waitFor(() => (tailer.tailer.status()[0]?.pollIntervalMs ?? 0) >= 1600, DEADLINE_MS, "the poll interval backed off to 1.6 s");
  const pollsBefore = tailer.tailer.filePolls;
  appendFileSync(path, "second\n");
  await waitFor(() => tailer.output.events.length === 2, DEADLINE_MS, "the line written while backed off");
  assert.deepEqual(tailer.output.events.map((event) => event.message), ["first", "second"]);
  assert.equal(tailer.tailer.filePolls, pollsBefore, "read through the directory watch's event, not by a poll");
});

test("a new file in a watched directory is found at once while the tailer sleeps with every file backed off", async (t) => {
  const defer = cleanups(t);
  const dir = scratch(defer);
  for (let index = 0; index < 20; index++) writeFileSync(join(dir, `old-${index}.log`), `old ${index}\n`);
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], tail: { rescanIntervalMs: NEVER_MS, statIntervalMs: 1000, statIntervalMaxMs: NEVER_MS } });
  defer(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 20, DEADLINE_MS, "the old files' lines");
  await waitFor(() => tailer.tailer.status().every((file) => (file.pollIntervalMs ?? 0) >= 2000), DEADLINE_MS, "every file backed off to 2 s");
  const pollsBefore = tailer.tailer.filePolls;
  writeFileSync(join(dir, "new.log"), "new 1\n");
  await waitFor(() => tailer.output.events.length === 21, DEADLINE_MS, "the new file's line");
  assert.equal(tailer.output.events.at(-1)?.message, "new 1");
  assert.equal(tailer.tailer.filePolls, pollsBefore, "the directory watch's event woke the sleeping tailer: no poll came first");
});
