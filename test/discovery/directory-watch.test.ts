/**
 * DirectoryWatcher at its limits: how deep it watches (the glob's depth, all
 * levels for `**`), a subdirectory made later (watched, and the files it
 * already holds reported), a root that appears after start (watched at the
 * next ensureRoots), and a directory loop through a symlink (watched once).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DirectoryWatcher } from "../../agent/tail/directory-watch.ts";
import { silentLogger } from "../../shared/logger.ts";
import { waitFor } from "../helpers/tail-harness.ts";

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "logship-dirwatch-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function watcher(t: { after: (fn: () => void) => void }, root: string, depth: number | undefined) {
  const seen: string[] = [];
  const watch = new DirectoryWatcher([{ root, depth }], (path, cause) => seen.push(`${cause} ${path}`), silentLogger);
  t.after(() => watch.close());
  return { watch, seen };
}

test("directories are watched down to the glob's depth and no deeper; ** watches every level", async (t) => {
  const root = scratch(t);
  mkdirSync(join(root, "a", "b", "c"), { recursive: true });
  const bounded = watcher(t, root, 1);
  await bounded.watch.ensureRoots();
  assert.equal(bounded.watch.directories, 2, "root and root/a (depth 1), not a/b or a/b/c");
  const flat = watcher(t, root, 0);
  await flat.watch.ensureRoots();
  assert.equal(flat.watch.directories, 1, "depth 0: the root only");
  const all = watcher(t, root, undefined);
  await all.watch.ensureRoots();
  assert.equal(all.watch.directories, 4, "**: every level");
});

test("a subdirectory made later is watched, and files already in it are reported; beyond the depth it is not", async (t) => {
  const root = scratch(t);
  const { watch, seen } = watcher(t, root, 1);
  await watch.ensureRoots();
  // Made with its file before the watch on it can exist: reported from the directory's listing.
  mkdirSync(join(root, "late", "deeper"), { recursive: true });
  writeFileSync(join(root, "late", "early.log"), "x\n");
  await waitFor(() => seen.includes(`add ${join(root, "late", "early.log")}`), 3000, "the file made with the directory");
  await waitFor(() => watch.directories === 2, 3000, "root/late watched");
  writeFileSync(join(root, "late", "next.log"), "y\n");
  await waitFor(() => seen.includes(`add ${join(root, "late", "next.log")}`), 3000, "a file made after the watch");
  assert.equal(watch.directories, 2, "root/late/deeper is past depth 1");
});

test("a root that does not exist yet is watched once ensureRoots finds it; a symlink loop is watched once", async (t) => {
  const base = scratch(t);
  const root = join(base, "later");
  const { watch, seen } = watcher(t, root, undefined);
  await watch.ensureRoots();
  assert.equal(watch.directories, 0);
  mkdirSync(join(root, "sub"), { recursive: true });
  symlinkSync(root, join(root, "sub", "loop"));
  await watch.ensureRoots();
  assert.equal(watch.directories, 2, "root and sub; sub/loop is root again");
  writeFileSync(join(root, "sub", "app.log"), "z\n");
  await waitFor(() => seen.includes(`add ${join(root, "sub", "app.log")}`), 3000, "a file in the found root");
});
