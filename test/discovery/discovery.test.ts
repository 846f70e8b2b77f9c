/**
 * Discovery: which files the tail rules find, and how fast.
 *
 * In-process, over real files in a scratch directory. Timing is asserted only
 * as generous deadlines (waitFor), never as wall-clock measurements.
 * - file events (directory watches): the rescan interval is set far beyond the
 *   deadline, so a file found in time was found by its event;
 * - rescans alone (NFS): the Tailer runs with `watch: false` and a short
 *   rescan interval;
 * - globs: `**`, `exclude` (file name or whole path), compressed files;
 * - several rules: a file belongs to the first rule that matches it;
 * - watchRoot: the directory watched for a glob, and how deep.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { silentLogger } from "../../shared/logger.ts";
import { Discovery, watchRoot } from "../../agent/tail/discovery.ts";
import { MemoryCheckpointStore } from "../../agent/tail/checkpoint.ts";
import type { SourceRuntime, TailOptions } from "../../agent/tail/source.ts";
import { Tailer } from "../../agent/tail/tailer.ts";
import { CollectingOutput, startTailer, testSource, testTailOptions, waitFor } from "../helpers/tail-harness.ts";

/** Deadline for "within about a second". */
const SOON_MS = 3_000;
/** A rescan interval no test waits for: whatever is found in time was found another way. */
const NEVER_MS = 600_000;

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "logship-discovery-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** "source path message" of every event, sorted: what came out, whatever the order between files. */
function seen(output: CollectingOutput): string[] {
  return output.events.map((event) => `${event.source} ${event.path} ${event.message}`).sort();
}

/** A Tailer without file events (`watch: false`), as on NFS: only scans find files. */
function startWithoutEvents(sources: SourceRuntime[], tail: Partial<TailOptions>) {
  const output = new CollectingOutput();
  const controller = new AbortController();
  const tailer = new Tailer({
    sources,
    tail: { ...testTailOptions, ...tail },
    host: "test-host",
    output,
    checkpoints: new MemoryCheckpointStore(),
    logger: silentLogger,
    fromBeginning: false,
    once: false,
    watch: false,
  });
  // close() after run(), as the agent does: it closes the files the tailer holds.
  const done = tailer.run(controller.signal).then(() => tailer.close());
  return {
    output,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

// ---- (a) file events ---------------------------------------------------------

test("file events: a new file matching a rule is picked up and its lines come out soon", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, "existing.log"), "existing 1\n");
  const tailer = startTailer({ sources: [testSource({ name: "app", paths: [join(dir, "*.log")] })], tail: { rescanIntervalMs: NEVER_MS } });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length >= 1, SOON_MS, "the existing file (startup scan)");
  // Let the watcher settle; a file made before it is ready is found by the scan it makes then.
  await sleep(300);
  writeFileSync(join(dir, "new.log"), "new 1\nnew 2\n");
  await waitFor(() => tailer.output.events.length >= 3, SOON_MS, "the new file's lines");
  appendFileSync(join(dir, "new.log"), "new 3\n");
  await waitFor(() => tailer.output.events.length >= 4, SOON_MS, "a line appended to the new file");
  writeFileSync(join(dir, "ignored.txt"), "not matched\n");
  await sleep(300);
  await tailer.stop();
  assert.deepEqual(seen(tailer.output), [
    `app ${join(dir, "existing.log")} existing 1`,
    `app ${join(dir, "new.log")} new 1`,
    `app ${join(dir, "new.log")} new 2`,
    `app ${join(dir, "new.log")} new 3`,
  ]);
});

test("file events: a file in a directory created after start is found through a ** glob", async (t) => {
  const dir = scratch(t);
  const tailer = startTailer({ sources: [testSource({ name: "app", paths: [join(dir, "**", "*.log")] })], tail: { rescanIntervalMs: NEVER_MS } });
  t.after(() => tailer.stop());
  await sleep(300);
  mkdirSync(join(dir, "2024", "01", "02"), { recursive: true });
  writeFileSync(join(dir, "2024", "01", "02", "deep.log"), "deep 1\n");
  await waitFor(() => tailer.output.events.length >= 1, SOON_MS, "the nested file's line");
  await tailer.stop();
  assert.deepEqual(seen(tailer.output), [`app ${join(dir, "2024", "01", "02", "deep.log")} deep 1`]);
});

test("file events: a file made while the watcher is starting is not missed", async (t) => {
  // Files made between the startup scan and the watcher being ready are in the
  // watcher's initial listing, which sends no event: they were found only by
  // the next rescan (seconds later) until discovery scanned again on "ready".
  const dir = scratch(t);
  const missed: number[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const subdir = join(dir, String(attempt));
    mkdirSync(subdir);
    const tailer = startTailer({ sources: [testSource({ paths: [join(subdir, "*.log")] })], tail: { rescanIntervalMs: NEVER_MS } });
    await sleep(attempt % 16);
    writeFileSync(join(subdir, "early.log"), "early\n");
    try {
      await waitFor(() => tailer.output.events.length >= 1, SOON_MS, "the early file");
    } catch {
      missed.push(attempt);
    }
    await tailer.stop();
  }
  assert.deepEqual(missed, [], "attempts whose file was not found in time");
});

// ---- (b) rescans without file events ------------------------------------------

test("without file events, the periodic rescan finds new files (NFS)", async (t) => {
  const dir = scratch(t);
  const tailer = startWithoutEvents([testSource({ name: "app", paths: [join(dir, "**", "*.log")] })], { rescanIntervalMs: 100 });
  t.after(() => tailer.stop());
  writeFileSync(join(dir, "first.log"), "first 1\n");
  await waitFor(() => tailer.output.events.length >= 1, SOON_MS, "the first new file");
  mkdirSync(join(dir, "nested", "dir"), { recursive: true });
  writeFileSync(join(dir, "nested", "dir", "second.log"), "second 1\nsecond 2\n");
  await waitFor(() => tailer.output.events.length >= 3, SOON_MS, "the second new file, in a new directory");
  appendFileSync(join(dir, "first.log"), "first 2\n");
  await waitFor(() => tailer.output.events.length >= 4, SOON_MS, "a line appended to the first file");
  await tailer.stop();
  assert.deepEqual(seen(tailer.output), [
    `app ${join(dir, "first.log")} first 1`,
    `app ${join(dir, "first.log")} first 2`,
    `app ${join(dir, "nested", "dir", "second.log")} second 1`,
    `app ${join(dir, "nested", "dir", "second.log")} second 2`,
  ]);
});

test("without file events and with a rescan interval no test waits for, a new file is not found", async (t) => {
  // The control for the test above: the rescan, not something else, found those files.
  const dir = scratch(t);
  const tailer = startWithoutEvents([testSource({ name: "app", paths: [join(dir, "*.log")] })], { rescanIntervalMs: NEVER_MS });
  t.after(() => tailer.stop());
  await sleep(100);
  writeFileSync(join(dir, "late.log"), "late 1\n");
  await sleep(1_000);
  await tailer.stop();
  assert.deepEqual(seen(tailer.output), []);
});

// ---- (c) globs, exclude, compressed files -------------------------------------

test("** finds files at every depth, exclude drops files by name or by path, compressed files are never tailed", async (t) => {
  const dir = scratch(t);
  const files: Record<string, string> = {
    "top.log": "top\n",
    "a/one.log": "one\n",
    "a/b/c/deep.log": "deep\n",
    "a/b/debug-verbose.log": "excluded by name\n",
    "archive/old.log": "excluded by path\n",
    "a/notes.txt": "not matched by the glob\n",
    "a/app.log.1": "rotated copy, uncompressed\n",
    "a/app.log.2.gz": "compressed (not really, but named so)\n",
    "a/b/app.log.3.zst": "compressed\n",
    "a/b/app.log.4.bz2": "compressed\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const sources = [
    testSource({
      name: "app",
      paths: [join(dir, "**", "*.log"), join(dir, "**", "app.log*")],
      exclude: ["debug-*.log", join(dir, "archive", "**")],
    }),
  ];
  const tailer = startTailer({ sources, once: true });
  await tailer.done;
  const expected = ["top.log", "a/one.log", "a/b/c/deep.log", "a/app.log.1"].map((path) => `app ${join(dir, path)} ${files[path]?.trimEnd()}`);
  assert.deepEqual(seen(tailer.output), expected.sort());
});

test("a compressed file that appears while tailing is not picked up (events and rescans)", async (t) => {
  const dir = scratch(t);
  const tailer = startTailer({ sources: [testSource({ name: "app", paths: [join(dir, "app.log*")] })], tail: { rescanIntervalMs: 100 } });
  t.after(() => tailer.stop());
  await sleep(300);
  writeFileSync(join(dir, "app.log.1.gz"), "compressed\n");
  writeFileSync(join(dir, "app.log"), "live\n");
  await waitFor(() => tailer.output.events.length >= 1, SOON_MS, "the live file");
  await sleep(500); // several rescans
  await tailer.stop();
  assert.deepEqual(seen(tailer.output), [`app ${join(dir, "app.log")} live`]);
});

// ---- (d) several rules ------------------------------------------------------------

test("a file matched by two rules belongs to the first; a file the first excludes goes to the next", async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, "web.log"), "web\n");
  writeFileSync(join(dir, "audit-1.log"), "audit\n");
  writeFileSync(join(dir, "other.txt"), "other\n");
  const sources = [
    testSource({ name: "first", paths: [join(dir, "*.log")], exclude: ["audit-*"] }),
    testSource({ name: "second", paths: [join(dir, "*")] }),
  ];
  const tailer = startTailer({ sources, tail: { rescanIntervalMs: 100 } });
  t.after(() => tailer.stop());
  await waitFor(() => tailer.output.events.length >= 3, SOON_MS, "the three files");
  await sleep(300);
  writeFileSync(join(dir, "later.log"), "later\n");
  writeFileSync(join(dir, "audit-2.log"), "audit later\n");
  await waitFor(() => tailer.output.events.length >= 5, SOON_MS, "the two new files");
  await sleep(300); // rescans must not hand a file to a second rule
  await tailer.stop();
  assert.deepEqual(seen(tailer.output), [
    `first ${join(dir, "later.log")} later`,
    `first ${join(dir, "web.log")} web`,
    `second ${join(dir, "audit-1.log")} audit`,
    `second ${join(dir, "audit-2.log")} audit later`,
    `second ${join(dir, "other.txt")} other`,
  ]);
});

test("Discovery.ruleFor: first matching rule, exclude per rule, compressed never", () => {
  const discovery = new Discovery(
    [
      { source: "nginx", paths: ["/var/log/nginx/*.log"], exclude: ["error.log"] },
      { source: "all", paths: ["/var/log/**"], exclude: ["/var/log/private/**"] },
    ],
    () => {},
    silentLogger,
  );
  assert.equal(discovery.ruleFor("/var/log/nginx/access.log"), "nginx");
  assert.equal(discovery.ruleFor("/var/log/nginx/error.log"), "all");
  assert.equal(discovery.ruleFor("/var/log/nginx/access.log.1"), "all");
  assert.equal(discovery.ruleFor("/var/log/nginx/access.log.2.gz"), null);
  assert.equal(discovery.ruleFor("/var/log/syslog"), "all");
  assert.equal(discovery.ruleFor("/var/log/a/b/c/d.log"), "all");
  assert.equal(discovery.ruleFor("/var/log/private/secret.log"), null);
  assert.equal(discovery.ruleFor("/var/lib/x.log"), null);
  for (const extension of ["gz", "bz2", "xz", "zst", "zip", "lz4"]) {
    assert.equal(discovery.ruleFor(`/var/log/app.log.1.${extension}`), null, extension);
  }
});

test("Discovery.scan reports each matching file once, with its first rule", async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, "sub"));
  for (const name of ["a.log", "b.log", "sub/c.log", "sub/d.log.gz"]) writeFileSync(join(dir, name), "x\n");
  const reports: string[] = [];
  const discovery = new Discovery(
    [
      { source: "one", paths: [join(dir, "a.log"), join(dir, "*.log")], exclude: [] },
      { source: "two", paths: [join(dir, "**", "*.log")], exclude: [] },
    ],
    (path, source, cause) => reports.push(`${cause} ${source} ${path}`),
    silentLogger,
  );
  await discovery.scan();
  assert.deepEqual(reports.sort(), [`scan one ${join(dir, "a.log")}`, `scan one ${join(dir, "b.log")}`, `scan two ${join(dir, "sub", "c.log")}`]);
});

test("Discovery rejects relative path globs", () => {
  assert.throws(() => new Discovery([{ source: "x", paths: ["logs/*.log"], exclude: [] }], () => {}, silentLogger), /absolute/);
});

// ---- (e) watchRoot ------------------------------------------------------------------

test("watchRoot: the deepest directory without glob characters, and the depth below it", () => {
  const cases: [string, string, number | undefined][] = [
    ["/var/log/nginx/*.log", "/var/log/nginx", 0],
    ["/var/log/nginx/access.log", "/var/log/nginx", 0],
    ["/var/log/*/current", "/var/log", 1],
    ["/var/log/*/logs/*.log", "/var/log", 2],
    ["/var/log/**/*.log", "/var/log", undefined],
    ["/var/log/app/**", "/var/log/app", undefined],
    ["/srv/*/logs/**/*.log", "/srv", undefined],
    ["/var/log/app-{a,b}/*.log", "/var/log", 1],
    ["/var/log/app[0-9].log", "/var/log", 0],
    ["/var/log/app?.log", "/var/log", 0],
    ["/*.log", "/", 0],
    ["/data/./logs/../logs/*.log", "/data/logs", 0],
  ];
  for (const [pattern, root, depth] of cases) {
    assert.deepEqual(watchRoot(pattern), { root, depth }, pattern);
  }
});
