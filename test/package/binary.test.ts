/**
 * The single executable (issue 7): built by the script `npm run package`
 * runs (packaging/build-sea.ts), copied alone into an empty directory and
 * run with a PATH that holds nothing (no node, no git), by absolute path:
 * `version`, then an agent and a collector from it ship a file's lines and
 * `search --count` from it finds them all. The collector decodes every batch
 * on its decode worker, whose code comes from the executable's assets, and
 * archives them as Parquet encoded on its encoder thread (an asset too); the
 * agent runs with its role's options (packaging/role-start.ts); the
 * collector serves the web UI from the executable's assets, the same bytes
 * collector/ui/build.ts makes; a collector with a Kafka sink starts (the
 * client's WebAssembly is an asset too).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildSea, BINARY_NAME } from "../../packaging/build-sea.ts";
import { buildUiAssets } from "../../collector/ui/build.ts";
import { gitHead } from "../../shared/cli/commands/version.ts";
import { agentSetup, collectorSetup, REPO, until } from "../helpers/processes.ts";

const SEARCH_TOKEN = "binary-search-token";
const LINES = 500;

test("the single executable, alone in a directory and with no node on PATH: version, and an agent and a collector from it ship a file that search finds in full", { timeout: 180_000 }, async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-binary-"));
  // The processes first (the agent writes its spool until it exits), then their directory: one hook, as hooks run in the order they were added.
  const stops: (() => Promise<void>)[] = [];
  t.after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await rm(directory, { recursive: true, force: true });
  });
  const built = await buildSea(join(directory, "build"));
  const home = join(directory, "bin");
  const emptyPath = join(directory, "empty-path");
  await mkdir(home);
  await mkdir(emptyPath);
  const binary = join(home, BINARY_NAME);
  await copyFile(built.path, binary);
  await rm(join(directory, "build"), { recursive: true });
  const env = { PATH: emptyPath, HOME: home };

  const version = spawnSync(binary, ["version"], { cwd: home, env, encoding: "utf8", timeout: 30_000 });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, `logship 0.1.0 (commit ${gitHead(REPO) ?? "unknown"}, node v24.9.0)\n`);

  const logFile = join(directory, "app.log");
  await writeFile(logFile, Array.from({ length: LINES }, (_, index) => `binary line ${index} shipped\n`).join(""));
  const collector = await collectorSetup(join(directory, "collector"), `  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }\nsinks:\n  archive: { format: parquet, roll: { max_age: 1s } }\n`);
  const collectorProcess = await start(stops, binary, ["collector", "--config", collector.configPath, "--log-format", "json"], env, /listening/);
  const agent = await agentSetup(join(directory, "agent"), [collector.url], [logFile]);
  const agentProcess = await start(stops, binary, ["agent", "--config", agent.configPath, "--log-format", "json"], env, /agent API listening/);
  // The agent replaced itself (same PID) with its role's environment.
  const agentEnv = (await readFile(`/proc/${agentProcess.pid}/environ`, "utf8")).split("\0");
  for (const variable of ["LOGSHIP_ROLE_OPTIONS=agent", "MALLOC_ARENA_MAX=1", "MALLOC_MMAP_THRESHOLD_=65536", "NODE_OPTIONS=--max-semi-space-size=2"]) assert.ok(agentEnv.includes(variable), `${variable} in ${agentEnv.join(" ")}`);

  let last = { status: null as number | null, stdout: "", stderr: "" };
  await until(`search --count to find all ${LINES} lines`, 60_000, async () => {
    const run = spawnSync(binary, ["search", "--server", collector.url, "--token", SEARCH_TOKEN, "--since", "1h", "--count", "shipped"], { cwd: home, env, encoding: "utf8", timeout: 30_000 });
    last = { status: run.status, stdout: run.stdout, stderr: run.stderr };
    return run.stdout === `${LINES}\n` ? true : undefined;
  }).catch((error: unknown) => {
    throw new Error(`${String(error)}; last search: ${JSON.stringify(last)}; collector exit ${collectorProcess.exitCode}`);
  });
  assert.equal(last.status, 0, last.stderr);
  // The role's late flags hold V8's optimizing compilers back (NODE_OPTIONS refuses them), and 500 lines are no load (agent/optimizing-compilers.ts).
  const status = (await (await fetch(`${agent.apiUrl}/status`)).json()) as { runtime: { optimizing_compilers: string } };
  assert.equal(status.runtime.optimizing_compilers, "deferred");
  // The archive's file, rolled by age, encoded on the Parquet encoder thread whose code is the executable's asset.
  const archive = join(collector.dataDir, "archive");
  await until("a committed Parquet file in the archive", 30_000, async () => (existsSync(archive) && (await readdir(archive, { recursive: true })).some((file) => file.endsWith(".parquet")) ? true : undefined));

  // The web UI from the executable's assets: the page, its script and its style, byte for byte what the build makes.
  const uiAssets = await buildUiAssets();
  for (const [path, name] of [["/", "index.html"], ["/ui/app.js", "app.js"], ["/ui/app.css", "app.css"]] as const) {
    const response = await fetch(`${collector.url}${path}`, { headers: { "accept-encoding": "identity" } });
    assert.equal(response.status, 200, path);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), Buffer.from(uiAssets.get(name) as Uint8Array), path);
  }

  // The Kafka client compiles its WebAssembly when imported (with sinks.kafka configured): from the executable's asset, no broker needed to start.
  const kafkaCollector = await collectorSetup(join(directory, "kafka-collector"), `sinks:\n  kafka: { brokers: ["127.0.0.1:1"], topic: logship }\n`);
  await start(stops, binary, ["collector", "--config", kafkaCollector.configPath, "--log-format", "json"], env, /listening/);
});

/** `binary ARGS` started in the background until `ready` appears in its log (stderr); `stops` gets what stops it (SIGTERM, then its exit) when the test ends. */
async function start(stops: (() => Promise<void>)[], binary: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(binary, args, { cwd: join(binary, ".."), env, stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  });
  let log = "";
  child.stderr?.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]}: no log line matching ${ready} within 30 s:\n${log}`)), 30_000);
    child.stderr?.on("data", (text: string) => {
      log += text;
      if (ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${child.exitCode ?? child.signalCode}) before logging ${ready}:\n${log}`));
    });
  });
  child.stderr?.resume();
  return child;
}
