/**
 * logship as it ships is one bundled file (bench/bundle.ts; the single
 * executable of issue 7 embeds the same). Two things a bundle can break that
 * the tests from sources never see:
 * - a builtin imported statically anywhere is hoisted to the bundle's top and
 *   loaded by every process: node:sqlite (the search index) in the agent
 *   costs memory and prints an ExperimentalWarning;
 * - a dependency that reads a file beside its own code at import (the Kafka
 *   client's WebAssembly) fails in a bundle unless it is imported only when
 *   Kafka is configured.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { bundleLogship } from "../../bench/bundle.ts";
import { freePort } from "../helpers/processes.ts";

test("the bundle loads node:sqlite only where the index is used, and a bundled collector without Kafka starts and answers", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-bundle-"));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const bundled = await bundleLogship(directory);
  const text = await readFile(bundled, "utf8");
  assert.doesNotMatch(text, /^import[^\n]*["']node:sqlite["']/m, "no top-level import of node:sqlite in the bundle");

  const port = await freePort();
  const config = join(directory, "collector.yaml");
  await writeFile(config, `listen: 127.0.0.1:${port}\ndata_dir: ${join(directory, "data")}\n`);
  const child = spawn(process.execPath, [bundled, "collector", "--config", config, "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  t.after(() => {
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
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
});
