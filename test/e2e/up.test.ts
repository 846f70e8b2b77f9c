/**
 * `logship up` as an operator runs it, as a real process: with `--path`
 * and no config, and with a `--config` file. Lines written to the tailed
 * files are found by `logship search` — run as the banner printed it —
 * exactly once each, also across a restart (the token file and the agent's
 * checkpoints survive it); SIGTERM stops the agent before the collector and
 * exits 0. A broken config exits 2 with every error before anything listens;
 * a taken address exits 1 saying so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { freePort, runLogship, startLogship, until, type LogshipProcess } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

interface RunningUp {
  process: LogshipProcess;
  /** What up printed on stdout. */
  stdout: () => string;
}

async function startUp(args: string[], env: Record<string, string> = {}): Promise<RunningUp> {
  const started = startLogship(["up", ...args, "--log-format", "json"], env);
  let stdout = "";
  started.child.stdout?.setEncoding("utf8");
  started.child.stdout?.on("data", (text: string) => (stdout += text));
  await started.waitForLog(/logship up is running/, 30_000);
  return { process: started, stdout: () => stdout };
}

/** `--server URL --token T` of the banner's search command, once it is printed. */
async function bannerSearch(up: RunningUp): Promise<{ server: string; token: string }> {
  return until("the banner's search command", 10_000, async () => {
    const match = /search --server (\S+) --token (\S+) 'error'/.exec(up.stdout());
    return match === null ? undefined : { server: match[1] as string, token: match[2] as string };
  });
}

/** Every event the search API holds, once there are `expected` (the sink indexes after the log acknowledged). */
async function searchEverything(server: string, token: string, expected: number): Promise<Event[]> {
  await until(`${expected} events to be searchable`, 60_000, async () => {
    const run = await runLogship(["search", "--server", server, "--token", token, "--count", ""]);
    return run.stdout === `${expected}\n` ? true : undefined;
  });
  const run = await runLogship(["search", "--server", server, "--token", token, "--limit", "10000", "--output", "ndjson", "--order", "asc", ""]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Event);
}

function lines(prefix: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix} ${from + index} ${(from + index) % 5 === 0 ? "ERROR disk slow" : "INFO ok"}`);
}

test("logship up --path --data-dir: lines written to the tailed files are found by the search the banner prints, exactly once, across a restart; SIGTERM stops the agent, then the collector", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-up-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const logs = join(directory, "logs");
  await mkdir(logs);
  const dataDir = join(directory, "data");
  const port = await freePort();
  const before = lines("app", 0, 300);
  await writeFile(join(logs, "app.log"), before.map((line) => `${line}\n`).join(""));
  await writeFile(join(logs, "skipped.txt"), "not matched by the glob\n");
  const args = ["--path", join(logs, "*.log"), "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`];

  let up = await startUp(args);
  defer(() => up.process.kill("SIGKILL"));
  const { server, token } = await bannerSearch(up);
  assert.equal(server, `http://127.0.0.1:${port}`);
  assert.equal((await readFile(join(dataDir, "token"), "utf8")).trim(), token, "the printed token is the one kept in data_dir/token");
  assert.equal(statSync(join(dataDir, "token")).mode & 0o777, 0o600);
  // A file that appears while up runs is tailed too.
  const later = lines("jobs", 0, 120);
  await writeFile(join(logs, "jobs.log"), later.map((line) => `${line}\n`).join(""));
  const first = await searchEverything(server, token, before.length + later.length);
  assert.deepEqual(first.map((event) => event.message).sort(), [...before, ...later].sort());
  assert.ok(first.every((event) => event.source === "files"));
  assert.deepEqual([...new Set(first.map((event) => event.path))].sort(), [join(logs, "app.log"), join(logs, "jobs.log")]);
  const errors = await runLogship(["search", "--server", server, "--token", token, "--count", "error"]);
  assert.deepEqual([errors.code, errors.stdout], [0, `${[...before, ...later].filter((line) => line.includes("ERROR")).length}\n`]);
  // Without the token: refused.
  const anonymous = await runLogship(["search", "--server", server, "--count", "error"]);
  assert.equal(anonymous.code, 2);
  assert.match(anonymous.stderr, /answered 401/);

  up.process.child.kill("SIGTERM");
  assert.deepEqual(await up.process.exited, { code: 0, signal: null });
  // The log is JSON lines (Node's ExperimentalWarning for SQLite is not).
  const messages = up.process.log.filter((line) => line.startsWith("{")).map((line) => (JSON.parse(line) as { msg: string }).msg);
  const agentStopped = messages.indexOf("agent stopped");
  const collectorStopped = messages.indexOf("collector stopped");
  assert.ok(agentStopped >= 0 && collectorStopped > agentStopped, `the agent stops before the collector:\n${messages.join("\n")}`);

  // Restart on the same data: the same token, nothing read twice, new lines found.
  const more = lines("app", 300, 50);
  await appendFile(join(logs, "app.log"), more.map((line) => `${line}\n`).join(""));
  up = await startUp(args);
  assert.deepEqual(await bannerSearch(up), { server, token });
  const second = await searchEverything(server, token, before.length + later.length + more.length);
  assert.deepEqual(second.map((event) => event.message).sort(), [...before, ...later, ...more].sort());
  assert.equal(new Set(second.map((event) => event.id)).size, second.length);
});

test("logship up --config: collector and agent sections with the standalone schemas; relative paths against the file; the configured search token is printed", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-up-config-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  await mkdir(join(directory, "logs"));
  const port = await freePort();
  const written = Array.from({ length: 200 }, (_, index) => `level=${index % 4 === 0 ? "error" : "info"} msg="request ${index}" took_ms=${index}`);
  await writeFile(join(directory, "logs", "api.log"), written.map((line) => `${line}\n`).join(""));
  const configPath = join(directory, "up.yaml");
  await writeFile(
    configPath,
    [
      "data_dir: state",
      "collector:",
      `  listen: 127.0.0.1:${port}`,
      "  tokens:",
      "    - { token: config-search-token, tenant: default, role: search }",
      "agent:",
      "  host: up-host",
      "  sources:",
      "    - name: api",
      '      paths: ["logs/*.log"]',
      "      start_at: beginning",
      "      parser: { type: logfmt }",
      "",
    ].join("\n"),
  );
  const up = await startUp(["--config", configPath], { LOGSHIP_TOKEN: "ignored-when-tokens-are-configured" });
  defer(() => up.process.kill("SIGKILL"));
  assert.deepEqual(await bannerSearch(up), { server: `http://127.0.0.1:${port}`, token: "config-search-token" });
  const events = await searchEverything(`http://127.0.0.1:${port}`, "config-search-token", written.length);
  assert.deepEqual(events.map((event) => event.message).sort(), written.map((_, index) => `request ${index}`).sort());
  assert.ok(events.every((event) => event.host === "up-host" && event.source === "api" && event.path === join(directory, "logs", "api.log")));
  assert.equal(events.find((event) => event.message === "request 4")?.fields["level"], "error", "the logfmt parser of the file's source ran");
  const errors = await runLogship(["search", "--server", `http://127.0.0.1:${port}`, "--token", "config-search-token", "--count", "fields.level:error"]);
  assert.deepEqual([errors.code, errors.stdout], [0, "50\n"]);
  // The data went where the file said: state/ beside it.
  assert.ok(statSync(join(directory, "state", "collector", "index", "default")).isDirectory());
  assert.ok(statSync(join(directory, "state", "agent")).isDirectory());
  up.process.child.kill("SIGINT");
  assert.deepEqual(await up.process.exited, { code: 0, signal: null });
});

test("logship up with a broken config, or nothing to tail, exits 2 with every error and listens on nothing", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-e2e-up-broken-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const port = await freePort();
  const configPath = join(directory, "up.yaml");
  await writeFile(
    configPath,
    ["collector:", `  listen: 127.0.0.1:${port}`, "  lisen: 127.0.0.1:1", "agent:", "  collectors: [http://10.0.0.5:7170]", "  sources:", "    - name: app", "      paths: []", ""].join("\n"),
  );
  const broken = await runLogship(["up", "--config", configPath]);
  assert.equal(broken.code, 2, broken.stderr);
  assert.equal(broken.stdout, "");
  assert.deepEqual(broken.stderr.trimEnd().split("\n"), [
    `logship: ${configPath}:3:3: collector.lisen: unknown key "lisen"; did you mean "listen"?`,
    `${configPath}:5:15: agent.collectors: logship up's agent ships to the collector of the same process; set collector.listen instead`,
    `${configPath}:8:14: agent.sources[0].paths: Too small: expected array to have >=1 items`,
  ]);
  const nothing = await runLogship(["up", "--data-dir", join(directory, "data"), "--listen", `127.0.0.1:${port}`]);
  assert.deepEqual(nothing, { code: 2, stdout: "", stderr: "logship: nothing to tail: pass --path GLOB (repeatable) or a --config whose agent.sources lists files\n" });
  const badListen = await runLogship(["up", "--path", join(directory, "*.log"), "--listen", "localhost"]);
  assert.deepEqual([badListen.code, badListen.stderr], [2, 'logship: --listen: expected host:port like 127.0.0.1:7171; got "localhost"\n']);
  // Nothing was started: the port is free and no data directory was made.
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  assert.throws(() => statSync(join(directory, "data")), { code: "ENOENT" });

  // A taken address is a runtime failure (exit 1) that says what to do.
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
  defer(() => taken.close());
  const busy = await runLogship(["up", "--path", join(directory, "*.log"), "--data-dir", join(directory, "data"), "--listen", `127.0.0.1:${port}`]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`^logship: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use .*; pass --listen host:port or set collector\\.listen$`, "m"));
});
