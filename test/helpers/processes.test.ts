import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLogship } from "./processes.ts";

test("kill: a process that ignores SIGTERM is SIGKILLed after the grace and the call fails, naming its last lines; one that exits returns", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "logship-kill-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stubborn = join(dir, "stubborn.mjs");
  writeFileSync(stubborn, 'process.on("SIGTERM", () => console.error("SIGTERM ignored")); console.error("ready"); setInterval(() => {}, 1000);\n');
  const ignoring = startLogship([], {}, stubborn);
  await ignoring.waitForLog(/^ready$/, 10_000);
  await assert.rejects(ignoring.kill("SIGTERM", 500), /did not exit within 500 ms of SIGTERM; killed; last lines:\nready/);
  assert.equal((await ignoring.exited).signal, "SIGKILL");

  const polite = join(dir, "polite.mjs");
  writeFileSync(polite, 'console.error("ready"); setInterval(() => {}, 1000);\n');
  const exiting = startLogship([], {}, polite);
  await exiting.waitForLog(/^ready$/, 10_000);
  await exiting.kill("SIGTERM", 10_000);
  assert.equal((await exiting.exited).signal, "SIGTERM");
});
