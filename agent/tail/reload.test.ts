/**
 * Tailer.reload (docs/RELOAD.md) in-process: a changed rule goes on from
 * where reading is (a held multiline event goes out under the old rule, a
 * carried partial line is finished under the new one), a removed rule's
 * file is let go, a renamed rule takes over its files without reading them
 * again, and an added rule's existing files start where start_at says.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTailer, testSource, waitFor } from "../../test/helpers/tail-harness.ts";

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "logship-reload-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("a changed rule: the held multiline event goes out under the old rule, the carried partial line is finished under the new one", async (t) => {
  const dir = scratch(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "ev1\n  cont1\nev2\n  cont2\npartial");
  const multiline = { start: "^\\S", continue: undefined, negate: false, linesMax: 100, bytesMax: 1 << 20, timeoutMs: 600_000 };
  const before = testSource({ name: "app", paths: [join(dir, "*.log")], multiline, fields: { rule: "old" } });
  const tailer = startTailer({ sources: [before] });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 1, 5000, "ev1 (ev2 is held)");
  await tailer.tailer.reload([testSource({ name: "app", paths: [join(dir, "*.log")], multiline, fields: { rule: "new" } })]);
  assert.equal(tailer.output.events.length, 2, "the reload let the held event go");
  appendFileSync(file, "-done\n  more\nev3\n");
  await waitFor(() => tailer.output.events.length === 3, 5000, "the finished partial line");
  await tailer.stop();
  assert.deepEqual(
    tailer.output.events.map((event) => [event.message, event.fields.rule, event.offset]),
    [
      ["ev1\n  cont1", "old", 0],
      ["ev2\n  cont2", "old", 12],
      ["partial-done\n  more", "new", 24],
    ],
  );
});

test("a removed rule: its file is let go; the other rules' files go on", async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, "a"));
  mkdirSync(join(dir, "b"));
  writeFileSync(join(dir, "a", "x.log"), "a1\n");
  writeFileSync(join(dir, "b", "y.log"), "b1\n");
  const ruleA = testSource({ name: "a", paths: [join(dir, "a", "*.log")] });
  const tailer = startTailer({ sources: [ruleA, testSource({ name: "b", paths: [join(dir, "b", "*.log")] })] });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 2, 5000, "a1 and b1");
  await tailer.tailer.reload([ruleA]);
  appendFileSync(join(dir, "b", "y.log"), "b2\n");
  appendFileSync(join(dir, "a", "x.log"), "a2\n");
  await waitFor(() => tailer.output.events.length === 3, 5000, "a2");
  assert.ok(tailer.tailer.status().every((file) => file.source === "a" || file.state === "done"));
  await tailer.stop();
  assert.deepEqual(tailer.output.events.map((event) => event.message).sort(), ["a1", "a2", "b1"]);
});

test("a renamed rule takes over its files from where they were read, not again from the start", async (t) => {
  const dir = scratch(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "one\ntwo\n");
  const tailer = startTailer({ sources: [testSource({ name: "old", paths: [join(dir, "*.log")] })] });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 2, 5000, "two lines");
  await tailer.tailer.reload([testSource({ name: "new", paths: [join(dir, "*.log")] })]);
  appendFileSync(file, "three\n");
  await waitFor(() => tailer.output.events.length === 3, 5000, "the third line");
  await tailer.stop();
  assert.deepEqual(
    tailer.output.events.map((event) => [event.message, event.source]),
    [
      ["one", "old"],
      ["two", "old"],
      ["three", "new"],
    ],
  );
});

test("an added rule: files it finds at the reload start where start_at says; files made later are read from 0", async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, "a"));
  mkdirSync(join(dir, "b"));
  writeFileSync(join(dir, "a", "x.log"), "a1\n");
  writeFileSync(join(dir, "b", "old.log"), "before the rule\n");
  const ruleA = testSource({ name: "a", paths: [join(dir, "a", "*.log")] });
  const tailer = startTailer({ sources: [ruleA] });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length === 1, 5000, "a1");
  // A file of rule a made just before the reload is not "found by the reload": it is read from 0.
  writeFileSync(join(dir, "a", "late.log"), "a late\n");
  await tailer.tailer.reload([ruleA, testSource({ name: "b", paths: [join(dir, "b", "*.log")], startAt: "end" })]);
  appendFileSync(join(dir, "b", "old.log"), "after the rule\n");
  writeFileSync(join(dir, "b", "new.log"), "new file\n");
  await waitFor(() => tailer.output.events.length === 4, 5000, "4 events");
  await tailer.stop();
  assert.deepEqual(tailer.output.events.map((event) => event.message).sort(), ["a late", "a1", "after the rule", "new file"]);
});
