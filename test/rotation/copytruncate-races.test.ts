/**
 * The copytruncate races that forced logrotate runs hit, each made
 * deterministic: the copy seen while still empty, and a copy shorter than
 * what the agent had already read from the live file (lines written between
 * logrotate's copy and its truncate, which the agent read and logrotate
 * lost). In every case a copy is the file already being read: never read
 * twice.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTailer, testSource, waitFor } from "../helpers/tail-harness.ts";

const TAIL = { statIntervalMs: 50, rescanIntervalMs: 100, rotateWaitMs: 600 };

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "logship-copytruncate-"));
}

function numbered(from: number, to: number): string {
  let text = "";
  for (let n = from; n < to; n++) text += `line ${n} ${"x".repeat(40)}\n`;
  return text;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function numbersOut(events: { message: string }[]): number[] {
  return events.map((event) => Number(event.message.split(" ")[1]));
}

function assertOnce(seen: number[], expected: number[]): void {
  const twice = seen.filter((n, index) => seen.indexOf(n) !== index);
  assert.deepEqual(twice, [], "no line came out twice");
  assert.deepEqual([...seen].sort((a, b) => a - b), expected);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index);

/** A scratch dir with app.log holding `text` (`lines` lines), tailed (app.log*) until those lines are out. */
async function tailingFirstLines(t: { after: (fn: () => unknown) => void }, text: string, lines: number) {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const live = join(dir, "app.log");
  writeFileSync(live, text);
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "app.log*")] })], tail: TAIL });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length >= lines, 5000, `first ${lines}`);
  return { dir, live, tailer };
}

/** Past the rotate wait (a held copy would be read by then), stop, and check every expected line came out once. */
async function stopAfterRotateWait(tailer: Awaited<ReturnType<typeof tailingFirstLines>>["tailer"], expected: number[]): Promise<void> {
  await sleep(TAIL.rotateWaitMs + 500);
  await tailer.stop();
  assertOnce(numbersOut(tailer.output.events), expected);
}

test("a copy first seen empty, filled later, is recognised as the file being read", async (t) => {
  const { live, tailer } = await tailingFirstLines(t, numbered(0, 100), 100);
  appendFileSync(live, numbered(100, 120)); // not read yet when the copy is made
  writeFileSync(`${live}.1`, ""); // logrotate's copy: created empty ...
  await sleep(300); // ... and seen so by the agent
  writeFileSync(`${live}.1`, numbered(0, 120)); // ... then filled
  await sleep(100);
  truncateSync(live, 0);
  appendFileSync(live, numbered(120, 140));
  await waitFor(() => tailer.output.events.length >= 140, 5000, "all 140");
  await stopAfterRotateWait(tailer, range(0, 140));
});

test("a copy shorter than what was read (seen after the truncate) is not read again", async (t) => {
  const { live, tailer } = await tailingFirstLines(t, numbered(0, 100), 100);
  // Lines 80..99 are written after logrotate's copy and before its truncate: the agent reads them, logrotate loses them.
  truncateSync(live, 0);
  appendFileSync(live, numbered(100, 110));
  await waitFor(() => tailer.output.events.length >= 110, 5000, "after the truncate");
  writeFileSync(`${live}.1`, numbered(0, 80)); // the copy, found only now
  await sleep(TAIL.rotateWaitMs * 2 + 500);
  await tailer.stop();
  assertOnce(numbersOut(tailer.output.events), range(0, 110));
});

test("a copy shorter than what was read (held back before the truncate) is not read again, even long after", async (t) => {
  const { live, tailer } = await tailingFirstLines(t, numbered(0, 80), 80);
  writeFileSync(`${live}.1`, numbered(0, 80)); // the copy ...
  await sleep(300);
  appendFileSync(live, numbered(80, 100)); // ... lines logrotate loses, read by the agent ...
  await waitFor(() => tailer.output.events.length >= 100, 5000, "first 100");
  truncateSync(live, 0); // ... the truncate
  appendFileSync(live, numbered(100, 110));
  await waitFor(() => tailer.output.events.length >= 110, 5000, "after the truncate");
  await sleep(TAIL.rotateWaitMs * 3 + 500); // the copy stays where it is
  await tailer.stop();
  assertOnce(numbersOut(tailer.output.events), range(0, 110));
});

test("a copy ignored as already read does not hide a later file that reuses its inode", async (t) => {
  const { live, tailer } = await tailingFirstLines(t, numbered(0, 100), 100);
  truncateSync(live, 0);
  appendFileSync(live, numbered(100, 110));
  await waitFor(() => tailer.output.events.length >= 110, 5000, "after the truncate");
  writeFileSync(`${live}.1`, numbered(0, 80)); // a copy holding nothing unread: let go
  await sleep(400);
  // The copy goes (compressed away); a later copy may get the same inode number back.
  renameSync(`${live}.1`, `${live}.2`);
  unlinkSync(`${live}.2`);
  await sleep(300);
  appendFileSync(live, numbered(110, 130));
  await waitFor(() => tailer.output.events.length >= 130, 5000, "130");
  writeFileSync(`${live}.1`, numbered(100, 140)); // next copy: 130..139 not read yet
  await sleep(200);
  truncateSync(live, 0);
  appendFileSync(live, numbered(140, 150));
  await waitFor(() => tailer.output.events.length >= 150, 5000, "all 150");
  await stopAfterRotateWait(tailer, range(0, 150));
});

test("truncated and written past the read offset between two reads: the new content is read from 0 even when the bytes before the offset look the same", async (t) => {
  // Lines of one length with one ending: the bytes just before any line boundary are the same.
  const fixed = (from: number, to: number) => {
    let text = "";
    for (let n = from; n < to; n++) text += `line ${String(n).padStart(6, "0")} ${"x".repeat(40)}\n`;
    return text;
  };
  const { live, tailer } = await tailingFirstLines(t, fixed(0, 100), 100);
  // All at once, before the agent looks again: copy, truncate, and more written than was read.
  copyFileSync(live, `${live}.1`);
  truncateSync(live, 0);
  appendFileSync(live, fixed(100, 250));
  await waitFor(() => tailer.output.events.length >= 250, 5000, "all 250");
  await stopAfterRotateWait(tailer, range(0, 250));
});

test("a copy first seen empty, then filled, truncated after, and renamed and deleted before the agent looks again, still gives its unread lines", async (t) => {
  const { live, tailer } = await tailingFirstLines(t, numbered(0, 100), 100);
  writeFileSync(`${live}.1`, ""); // logrotate's copy, created empty ...
  await sleep(300); // ... seen so by the agent
  // All at once: written, copied, truncated, then the copy renamed and compressed away (deleted).
  appendFileSync(live, numbered(100, 120));
  writeFileSync(`${live}.1`, numbered(0, 120));
  truncateSync(live, 0);
  appendFileSync(live, numbered(120, 140));
  renameSync(`${live}.1`, `${live}.2`);
  unlinkSync(`${live}.2`);
  await waitFor(() => tailer.output.events.length >= 140, 5000, "all 140");
  await stopAfterRotateWait(tailer, range(0, 140));
});
