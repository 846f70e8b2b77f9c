import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const EXIT_MODULE = pathToFileURL(join(import.meta.dirname, "exit.ts")).href;

/** Runs `body` after importing exitWhenDone in a fresh node; its exit code, signal and standard error. */
async function run(body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", `import { exitWhenDone } from ${JSON.stringify(EXIT_MODULE)};\n${body}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  return { code, signal, stderr };
}

test("a process still held open once its command is done exits with the command's code, naming what held it", { timeout: 30_000 }, async () => {
  // A timer that re-arms itself for ever, as the Kafka client's heartbeat did after its consumer was closed.
  const held = await run("const beat = () => setTimeout(beat, 50); beat(); exitWhenDone(3, 200);");
  assert.deepEqual([held.code, held.signal], [3, null]);
  assert.match(held.stderr, /logship: the command is done but the process is still held open \(.*Timeout.*\); exiting/);
});

test("a process with nothing left open ends at once with the command's code, without the line", { timeout: 30_000 }, async () => {
  // A grace far longer than the test's own timeout: only the unref'd timer can be waiting on it.
  const done = await run("exitWhenDone(2, 3_600_000);");
  assert.deepEqual([done.code, done.signal], [2, null]);
  assert.equal(done.stderr, "");
});
