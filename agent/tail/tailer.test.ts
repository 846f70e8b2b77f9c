import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync, copyFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileCheckpointStore, MemoryCheckpointStore } from "./checkpoint.ts";
import { Tailer } from "./tailer.ts";
import { silentLogger } from "../../shared/logger.ts";
import { CollectingOutput, startTailer, testSource, testTailOptions, waitFor } from "../../test/helpers/tail-harness.ts";
import type { BlockOutput, EventBlock } from "../events.ts";
import { blockEvents } from "../events.ts";

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "logship-tail-"));
}

function numbered(prefix: string, from: number, to: number): string {
  let text = "";
  for (let n = from; n < to; n++) text += `${prefix} ${n}\n`;
  return text;
}

const messages = (output: CollectingOutput, path?: string) =>
  output.events.filter((event) => path === undefined || event.path === path).map((event) => event.message);

test("start_at end skips existing lines at startup; files that appear later are read from the beginning", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "old.log"), "before 1\nbefore 2\n");
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")], startAt: "end" })] });
  await new Promise((resolve) => setTimeout(resolve, 300));
  appendFileSync(join(dir, "old.log"), "after 1\n");
  writeFileSync(join(dir, "new.log"), "new 1\nnew 2\n");
  await waitFor(() => tailer.output.events.length >= 3, 5000, "3 events");
  await tailer.stop();
  assert.deepEqual(messages(tailer.output, join(dir, "old.log")), ["after 1"]);
  assert.deepEqual(messages(tailer.output, join(dir, "new.log")), ["new 1", "new 2"]);
});

test("rename + create rotation: the old file is read to its end, the new one from 0, nothing twice", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const live = join(dir, "app.log");
  writeFileSync(live, numbered("line", 0, 100));
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "app.log*")] })] });
  await waitFor(() => tailer.output.events.length >= 100, 5000, "first 100");
  appendFileSync(live, numbered("line", 100, 150));
  renameSync(live, `${live}.1`);
  appendFileSync(`${live}.1`, numbered("line", 150, 160)); // the writer had not reopened yet
  writeFileSync(live, numbered("line", 160, 200));
  await waitFor(() => tailer.output.events.length >= 200, 5000, "all 200");
  await new Promise((resolve) => setTimeout(resolve, 300));
  await tailer.stop();
  const seen = messages(tailer.output).map((message) => Number(message.split(" ")[1]));
  assert.deepEqual([...seen].sort((a, b) => a - b), [...Array(200).keys()]);
  // One path label per file: the rotated file keeps the name it was first read under.
  assert.ok(tailer.output.events.every((event) => event.path === live));
});

test("copytruncate: the copy continues the stream where reading stopped, the truncated file restarts at 0", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const live = join(dir, "app.log");
  writeFileSync(live, numbered("line", 0, 300));
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "app.log*")] })] });
  await waitFor(() => tailer.output.events.length >= 300, 5000, "first 300");
  // Written after the last read, then copied and truncated before the agent reads again.
  appendFileSync(live, numbered("line", 300, 320));
  copyFileSync(live, `${live}.1`);
  truncateSync(live, 0);
  appendFileSync(live, numbered("line", 320, 340));
  await waitFor(() => tailer.output.events.length >= 340, 5000, "all 340");
  await new Promise((resolve) => setTimeout(resolve, 500));
  await tailer.stop();
  const seen = messages(tailer.output).map((message) => Number(message.split(" ")[1]));
  assert.deepEqual([...seen].sort((a, b) => a - b), [...Array(340).keys()]);
});

test("a deleted file is drained and closed", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "gone.log");
  writeFileSync(path, numbered("x", 0, 10));
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })] });
  await waitFor(() => tailer.output.events.length >= 10, 5000, "10 events");
  unlinkSync(path);
  await waitFor(() => tailer.tailer.status().length === 0, 5000, "stream dropped");
  await tailer.stop();
  assert.equal(tailer.output.events.length, 10);
});

test("a symlink and its target are tailed once", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "real.log"), "one\ntwo\n");
  symlinkSync(join(dir, "real.log"), join(dir, "link.log"));
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], once: true });
  await tailer.done;
  assert.deepEqual(messages(tailer.output).sort(), ["one", "two"]);
});

test("fairness: a busy file does not starve a quiet one", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "busy.log"), numbered("busy", 0, 200_000));
  writeFileSync(join(dir, "quiet.log"), "quiet 0\n");
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], once: true, tail: { readBytesPerPass: 16 * 1024 } });
  await tailer.done;
  const quietIndex = tailer.output.events.findIndex((event) => event.message === "quiet 0");
  assert.ok(quietIndex >= 0 && quietIndex < 5000, `quiet line came at position ${quietIndex}`);
  assert.equal(tailer.output.events.length, 200_001);
});

test("restart resumes at the acknowledged offset with the same ids; nothing unacknowledged is skipped", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "app.log");
  writeFileSync(path, numbered("line", 0, 1000));
  const store = new FileCheckpointStore(join(dir, "data"));
  // An output that acknowledges only the first 3 blocks.
  const held: EventBlock[] = [];
  const partial: BlockOutput & { events: ReturnType<typeof blockEvents> } = {
    events: [],
    async send(block) {
      this.events.push(...blockEvents(block));
      if (held.length < 3) block.ack();
      held.push(block);
    },
  };
  const first = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], checkpoints: store, output: partial, tail: { readBytesPerPass: 2048 } });
  await waitFor(() => partial.events.length >= 1000, 5000, "first run");
  await first.stop();
  const ackedCount = blockEvents(held[0] as EventBlock).length + blockEvents(held[1] as EventBlock).length + blockEvents(held[2] as EventBlock).length;
  const second = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], checkpoints: store });
  await waitFor(() => second.output.events.length >= 1000 - ackedCount, 5000, "second run");
  await new Promise((resolve) => setTimeout(resolve, 200));
  await second.stop();
  assert.equal(second.output.events.length, 1000 - ackedCount);
  assert.equal(second.output.events[0]?.message, `line ${ackedCount}`);
  const firstIds = new Map(partial.events.map((event) => [event.offset, event.id]));
  for (const event of second.output.events) assert.equal(event.id, firstIds.get(event.offset));
});

test("a file truncated while the agent was stopped is read again from the start", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "app.log");
  writeFileSync(path, numbered("old", 0, 50));
  const store = new FileCheckpointStore(join(dir, "data"));
  const first = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], checkpoints: store });
  await waitFor(() => first.output.events.length >= 50, 5000, "first run");
  await first.stop();
  writeFileSync(path, numbered("new", 0, 60)); // same inode, new content, longer than before
  const second = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], checkpoints: store });
  await waitFor(() => second.output.events.length >= 60, 5000, "second run");
  await second.stop();
  assert.deepEqual(messages(second.output), numbered("new", 0, 60).trimEnd().split("\n"));
  const oldIds = new Set(first.output.events.map((event) => event.id));
  assert.ok(second.output.events.every((event) => !oldIds.has(event.id)), "new content gets new ids");
});

test("max_open_files bounds open files; close_inactive frees them and a growing file is reopened", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (let index = 0; index < 6; index++) writeFileSync(join(dir, `f${index}.log`), `file ${index}\n`);
  const tailer = startTailer({
    sources: [testSource({ paths: [join(dir, "*.log")] })],
    tail: { openFilesMax: 2, closeInactiveMs: 200, rescanIntervalMs: 100 },
  });
  await waitFor(() => tailer.output.events.length >= 6, 10_000, "all six files");
  const open = () => tailer.tailer.status().filter((stream) => stream.state === "active" || stream.state === "draining").length;
  assert.ok(open() <= 2);
  await waitFor(() => open() === 0, 5000, "inactive files closed");
  appendFileSync(join(dir, "f0.log"), "file 0 again\n");
  await waitFor(() => tailer.output.events.length >= 7, 5000, "reopened file");
  await tailer.stop();
  assert.equal(messages(tailer.output, join(dir, "f0.log")).join("|"), "file 0|file 0 again");
});

test("multiline timeout: the last event of a quiet file is emitted without waiting for the next one", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "app.log"), "2026-01-01 first\n2026-01-02 boom\n\tat Foo.bar\n");
  const tailer = startTailer({
    sources: [testSource({ paths: [join(dir, "*.log")], multiline: { start: "^\\d{4}-", negate: false, linesMax: 500, bytesMax: 1 << 20, timeoutMs: 200 } })],
  });
  // "first" is emitted when "boom" begins; "boom" only by the timeout: nothing else follows it.
  await waitFor(() => tailer.output.events.length >= 2, 5000, "the held event after its timeout");
  const held = tailer.tailer.status()[0];
  await tailer.stop();
  assert.deepEqual(messages(tailer.output), ["2026-01-01 first", "2026-01-02 boom\n\tat Foo.bar"]);
  assert.equal(held?.ackedOffset, Buffer.byteLength("2026-01-01 first\n2026-01-02 boom\n\tat Foo.bar\n"));
});

test("a stop asked for before the tailer runs (SIGTERM while the agent starts) ends it: the abort already happened and fires no event", { timeout: 15_000 }, async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "a.log"), "one line\n");
  const controller = new AbortController();
  controller.abort();
  const tailer = new Tailer({
    sources: [testSource({ paths: [join(dir, "*.log")] })],
    tail: testTailOptions,
    host: "test-host",
    output: new CollectingOutput(),
    checkpoints: new MemoryCheckpointStore(),
    logger: silentLogger,
    fromBeginning: false,
    once: false,
    watch: true,
  });
  const outcome = await Promise.race([tailer.run(controller.signal).then(() => "stopped"), new Promise((resolve) => setTimeout(resolve, 5000, "still running")).then((value) => value)]);
  await tailer.close();
  assert.equal(outcome, "stopped");
});
