/**
 * `logship up` reloads its agent's tail rules on SIGHUP, as `logship agent`
 * does (docs/RELOAD.md; the agent side is test/e2e/reload.test.ts): a rule
 * added to up.yaml's agent section starts shipping, and a broken file is
 * rejected while the old rule keeps running.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runLogship, startLogship, until } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const SEARCH_TOKEN = "reload-search-token";

function upConfig(port: number, sources: string): string {
  return ["data_dir: state", "collector:", `  listen: 127.0.0.1:${port}`, "  tokens:", `    - { token: ${SEARCH_TOKEN}, tenant: default, role: search }`, "agent:", "  sources:", sources].join("\n");
}

const rule = (name: string) => `    - name: ${name}\n      paths: ["${name}/*.log"]\n      start_at: beginning\n`;

test("logship up: SIGHUP adds a rule of the agent section; a broken file is rejected and the old rules keep shipping", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-up-reload-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  await mkdir(join(directory, "one"));
  await mkdir(join(directory, "two"));
  const port = await freePort();
  const configPath = join(directory, "up.yaml");
  await writeFile(configPath, upConfig(port, rule("one")));
  const up = startLogship(["up", "--config", configPath, "--log-format", "json"]);
  defer(() => up.kill("SIGKILL"));
  await up.waitForLog(/logship up is running/, 30_000);
  const count = async (query: string): Promise<number> => Number((await runLogship(["search", "--server", `http://127.0.0.1:${port}`, "--token", SEARCH_TOKEN, "--count", query])).stdout);
  const reloads = (pattern: RegExp): number => up.log.filter((line) => pattern.test(line)).length;

  await writeFile(configPath, upConfig(port, rule("one") + rule("two")));
  up.child.kill("SIGHUP");
  const reloaded = await until("config reloaded", 30_000, async () => up.log.find((line) => /config reloaded/.test(line)));
  assert.deepEqual(JSON.parse(reloaded).added, ["two"]);
  await writeFile(join(directory, "two", "b.log"), "from two\n");
  await until("the added rule's line is searchable", 60_000, async () => ((await count("source:two")) === 1 ? true : undefined));

  await writeFile(configPath, upConfig(port, "    - name: [not a name]\n"));
  up.child.kill("SIGHUP");
  await until("config reload rejected", 30_000, async () => (reloads(/config reload rejected/) === 1 ? true : undefined));
  await appendFile(join(directory, "one", "a.log"), "from one\n");
  await until("the old rule's line is searchable", 60_000, async () => ((await count("source:one")) === 1 ? true : undefined));

  up.child.kill("SIGTERM");
  assert.deepEqual(await up.exited, { code: 0, signal: null });
});
