/**
 * logship as it ships is bundled: an entry and chunks loaded on demand
 * (bench/bundle.ts; the single executable of issue 7 embeds the same).
 * Things a bundle can break that the tests from sources never see:
 * - a builtin imported statically is hoisted to the top of its chunk, and a
 *   chunk shared with the agent's code would load node:sqlite (the search
 *   index) into the agent: memory and an ExperimentalWarning;
 * - code an agent never runs, loaded by it anyway: the entry must not
 *   statically reach the collector, the index or the config schemas;
 * - the collector's decode worker thread is a file of its own: a bundle
 *   without it answers /readyz but fails every batch; so is the archive's
 *   Parquet encoder thread (without it no Parquet file is ever committed);
 * - a dependency that reads a file beside its own code at import (the Kafka
 *   client's WebAssembly) fails in a bundle unless it is imported only when
 *   Kafka is configured.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { bundleLogship } from "../../bench/bundle.ts";
import { freePort } from "../helpers/processes.ts";
import { makeBatch, numberedLines } from "../../collector/testing/batches.ts";
import { postBatch } from "../../collector/testing/collector.ts";
import { cleanups } from "../helpers/cleanups.ts";

test("the bundle: chunks load node:sqlite only where the index is used, the entry holds only the CLI, and a bundled collector without Kafka starts, answers and archives as Parquet", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-bundle-"));
  const defer = cleanups(t);
  defer(() => rm(directory, { recursive: true, force: true }));
  const bundled = await bundleLogship(directory);
  const files = (await readdir(dirname(bundled), { recursive: true })).filter((file) => file.endsWith(".mjs"));
  assert.ok(files.length > 10, `an entry and its chunks: ${files.join(", ")}`);
  for (const file of files) {
    const text = await readFile(join(dirname(bundled), file), "utf8");
    assert.ok(!staticImports(text).includes("node:sqlite"), `no static import of node:sqlite in ${file}`);
  }
  // What every process loads (the entry and the chunks it imports statically) is the CLI only, not what one command runs.
  const startup = await staticallyLoaded(bundled);
  for (const marker of ["CREATE VIRTUAL TABLE", "collectorConfigSchema", "PeerClient", "class Tailer"]) {
    assert.ok(!startup.text.includes(marker), `${marker} is loaded at start (files ${startup.files.join(", ")})`);
  }

  const port = await freePort();
  const config = join(directory, "collector.yaml");
  await writeFile(config, `listen: 127.0.0.1:${port}\ndata_dir: ${join(directory, "data")}\nsinks: { archive: { format: parquet } }\n`);
  const child = spawn(process.execPath, [bundled, "collector", "--config", config, "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  defer(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const deadline = Date.now() + 30_000;
  let ready = false;
  while (!ready && Date.now() < deadline && child.exitCode === null) {
    try {
      ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  assert.ok(ready, `the bundled collector answers /readyz (exit ${child.exitCode}):\n${stderr}`);
  // A batch goes through the decode worker, which a bundle carries as an entry of its own.
  const stored = await postBatch(`http://127.0.0.1:${port}`, makeBatch({ seq: 1, lines: numberedLines("bundled line", 0, 5) }).body);
  assert.deepEqual([stored.status, stored.json], [200, { offset: 0, events: 5 }], stderr);
  const archive = join(directory, "data", "archive");
  const opened = async (): Promise<boolean> => existsSync(archive) && (await readdir(archive, { recursive: true })).some((file) => file.includes(".inprogress-"));
  while (!(await opened()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  // At stop the archive commits its open file, encoded on the Parquet encoder thread, another entry of the bundle.
  const archived = (await readdir(archive, { recursive: true })).filter((file) => file.endsWith(".parquet"));
  assert.equal(archived.length, 1, `one committed Parquet file: ${archived.join(", ")}\n${stderr}`);
});

/** The files a process loads before running a command: `entry` and, transitively, every chunk it imports statically (not `import()`). */
async function staticallyLoaded(entry: string): Promise<{ files: string[]; text: string }> {
  const files: string[] = [];
  let text = "";
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.includes(file)) continue;
    files.push(file);
    const source = await readFile(file, "utf8");
    text += source;
    for (const specifier of staticImports(source)) if (specifier.startsWith(".")) pending.push(join(dirname(file), specifier));
  }
  return { files, text };
}

/** The specifiers of a module's static import statements (`import x from "y"`, `import "y"`; not `import("y")`), minified or not. */
function staticImports(source: string): string[] {
  return [...source.matchAll(/(?<![(\w.$])import\s*(?:[\w$*{][^"'`;]*?from\s*)?["']([^"']+)["']/g)].map((match) => match[1] as string);
}
