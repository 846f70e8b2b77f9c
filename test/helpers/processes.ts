/**
 * End-to-end helpers: real `logship` processes (agent, collector) started
 * from bin/logship.ts with Node 24, CLI commands run to their end,
 * numbered-line writers, and the collector's log read back with
 * `logship log dump`.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { appendFile, mkdir, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Event } from "../../shared/event.ts";
import type { AgentStatus } from "../../agent/agent.ts";

export const REPO = join(import.meta.dirname, "..", "..");
export const LOGSHIP = join(REPO, "bin", "logship.ts");
export const INGEST_TOKEN = "e2e-ingest-token";
const execFileAsync = promisify(execFile);
/**
 * How long kill() waits by default for an exit after its signal before it
 * sends SIGKILL and fails: above the longest stop logship documents (the
 * collector's 30 s drain, then the 5 s of shared/cli/exit.ts).
 */
const KILL_GRACE_MS = 60_000;

export interface LogshipProcess {
  child: ChildProcess;
  /** Every line logship wrote to stderr (its own log). */
  log: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Sends `signal` (SIGTERM) and waits for the exit; a process still running `graceMs` (60 s) later is SIGKILLed and the call throws. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Starts `logship ARGS` (or another entry point, `script`, run the same way: test/helpers/recording-collector.ts), with Node/V8 options `nodeArgs`. */
export function startLogship(args: string[], env: Record<string, string> = {}, script = LOGSHIP, nodeArgs: readonly string[] = []): LogshipProcess {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (text: string) => {
    partial += text;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      log.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    log,
    exited,
    waitForLog(pattern, timeoutMs) {
      const seen = log.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; last lines:\n${log.slice(-10).join("\n")}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`process exited (${code ?? signal}) before logging ${pattern}; last lines:\n${log.slice(-10).join("\n")}`));
        });
      });
    },
    async kill(signal = "SIGTERM", graceMs = KILL_GRACE_MS) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), graceMs);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome !== "late") return;
      // A process that ignores its signal fails the test here, instead of holding the file (and CI) open until a timeout far away.
      child.kill("SIGKILL");
      await exited;
      throw new Error(`logship did not exit within ${graceMs} ms of ${signal}; killed; last lines:\n${log.slice(-10).join("\n")}`);
    },
  };
}

/** A TCP port free right now on 127.0.0.1 (so that a restarted collector gets the same one). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface CollectorSetup {
  url: string;
  port: number;
  configPath: string;
  dataDir: string;
  process: LogshipProcess | null;
  start(): Promise<LogshipProcess>;
}

/** Write a collector config under `dir` and return a handle that can start (and restart) it on a fixed port. */
export async function collectorSetup(dir: string, extraYaml = ""): Promise<CollectorSetup> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const dataDir = join(dir, "data");
  const configPath = join(dir, "collector.yaml");
  await writeFile(
    configPath,
    `listen: 127.0.0.1:${port}\ndata_dir: ${dataDir}\ntokens:\n  - { token: ${INGEST_TOKEN}, tenant: default, role: ingest }\n${extraYaml}`,
  );
  const setup: CollectorSetup = {
    url: `http://127.0.0.1:${port}`,
    port,
    configPath,
    dataDir,
    process: null,
    async start() {
      const started = startLogship(["collector", "--config", configPath, "--log-format", "json"]);
      setup.process = started;
      await started.waitForLog(/listening/, 30_000);
      return started;
    },
  };
  return setup;
}

export interface AgentSetup {
  configPath: string;
  dataDir: string;
  apiUrl: string;
  process: LogshipProcess | null;
  start(): Promise<LogshipProcess>;
}

/** Write an agent config tailing `paths` into `collectors`; `extraYaml` is appended at the top level. */
export async function agentSetup(dir: string, collectors: string[], paths: string[], extraYaml = ""): Promise<AgentSetup> {
  await mkdir(dir, { recursive: true });
  const apiPort = await freePort();
  const dataDir = join(dir, "data");
  const configPath = join(dir, "agent.yaml");
  await writeFile(
    configPath,
    [
      `data_dir: ${dataDir}`,
      `host: e2e-host`,
      `collectors: [${collectors.join(", ")}]`,
      `token: ${INGEST_TOKEN}`,
      `api: { listen: 127.0.0.1:${apiPort} }`,
      `sources:`,
      `  - name: e2e`,
      `    paths: [${paths.map((path) => JSON.stringify(path)).join(", ")}]`,
      `    start_at: beginning`,
      extraYaml,
    ].join("\n") + "\n",
  );
  const setup: AgentSetup = {
    configPath,
    dataDir,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    process: null,
    async start() {
      const started = startLogship(["agent", "--config", configPath, "--log-format", "json"]);
      setup.process = started;
      await started.waitForLog(/agent API listening/, 30_000);
      return started;
    },
  };
  return setup;
}

/** Every event in a collector's log for `tenant`, via `logship log dump` (the operator's view). */
export async function dumpLog(collectorConfigPath: string, tenant = "default"): Promise<Event[]> {
  const { stdout } = await execFileAsync(process.execPath, [LOGSHIP, "log", "dump", "--config", collectorConfigPath, "--tenant", tenant], {
    cwd: REPO,
    maxBuffer: 1 << 30,
  });
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Event);
}

/**
 * Writes `count` numbered lines `file=<name> seq=<n> <padding>` to `path` in
 * batches, pausing `pauseMs` between batches. Returns when all are written.
 */
export async function writeNumbered(path: string, name: string, count: number, options: { batchLines: number; pauseMs: number; padding?: string; signal?: AbortSignal }): Promise<void> {
  const padding = options.padding ?? "the quick brown fox jumps over the lazy dog";
  for (let start = 0; start < count; start += options.batchLines) {
    if (options.signal?.aborted) return;
    let text = "";
    for (let seq = start; seq < Math.min(count, start + options.batchLines); seq++) text += `file=${name} seq=${seq} ${padding}\n`;
    await appendFile(path, text);
    if (options.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
}

export interface ExactlyOnceReport {
  missing: number;
  duplicates: number;
  /** Up to 10 examples of each, for the failure message. */
  examples: string[];
}

/** Check that every `file=<name> seq=<n>` for n < counts[name] appears exactly once among `events`. */
export function exactlyOnce(events: Event[], counts: Record<string, number>): ExactlyOnceReport {
  const seen = new Map<string, Uint8Array>();
  for (const [name, count] of Object.entries(counts)) seen.set(name, new Uint8Array(count));
  const report: ExactlyOnceReport = { missing: 0, duplicates: 0, examples: [] };
  for (const event of events) {
    const match = /^file=(\S+) seq=(\d+) /.exec(event.message);
    if (match === null) continue;
    const marks = seen.get(match[1] as string);
    const seq = Number(match[2]);
    if (marks === undefined || seq >= marks.length) continue;
    marks[seq] = (marks[seq] as number) + 1;
    if (marks[seq] === 2) {
      report.duplicates++;
      if (report.examples.length < 10) report.examples.push(`duplicate ${match[1]} seq=${seq}`);
    }
  }
  for (const [name, marks] of seen) {
    for (let seq = 0; seq < marks.length; seq++) {
      if (marks[seq] === 0) {
        report.missing++;
        if (report.examples.length < 20) report.examples.push(`missing ${name} seq=${seq}`);
      }
    }
  }
  return report;
}

/** The agent's /status, or null while it does not answer (restarting, killed). */
export async function agentStatus(agent: AgentSetup): Promise<AgentStatus | null> {
  try {
    const response = await fetch(`${agent.apiUrl}/status`, { signal: AbortSignal.timeout(5_000) });
    return response.ok ? ((await response.json()) as AgentStatus) : null;
  } catch {
    return null; // not answering: the caller polls again
  }
}

/** Waits until every file is acknowledged to its end and nothing is spooled or in flight; returns that status. */
export async function waitDelivered(agent: AgentSetup, paths: string[], timeoutMs: number): Promise<AgentStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: AgentStatus | null = null;
  let sizes: number[] = [];
  while (Date.now() < deadline) {
    sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
    last = await agentStatus(agent);
    if (last !== null && last.spool.records === 0 && last.batches.backlog === 0) {
      const status = last;
      if (paths.every((path, index) => status.files.some((file) => file.currentPath === path && file.ackedOffset === sizes[index]))) return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `the agent did not deliver everything within ${timeoutMs} ms; sizes ${JSON.stringify(sizes)}; last status ${JSON.stringify(last)}; last agent log:\n${(agent.process?.log ?? []).slice(-15).join("\n")}`,
  );
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `logship ARGS` to its end; LOGSHIP_TOKEN and LOGSHIP_SERVER come only from `env`, never from the test's own environment. */
export function runLogship(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
    for (const name of ["LOGSHIP_TOKEN", "LOGSHIP_SERVER"]) if (env[name] === undefined) delete childEnv[name];
    execFile(process.execPath, [LOGSHIP, ...args], { cwd: REPO, env: childEnv, timeout: 60_000, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr });
    });
  });
}

/** Polls `probe` every 200 ms until it gives a value (test synchronisation, not timing). */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
