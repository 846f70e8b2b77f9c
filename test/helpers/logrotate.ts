/**
 * The real `logrotate` for rotation tests: installed from Debian's package
 * when missing (CI is a fresh Debian machine where the tests run as root),
 * and run with its own state file and config so that nothing of the host's
 * rotation is touched.
 */
import { execFileSync, spawn } from "node:child_process";
import { aptInstall } from "./apt.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

let installed: string | null = null;

function logrotateOnPath(): string | null {
  for (const candidate of ["/usr/sbin/logrotate", "/sbin/logrotate", "/usr/bin/logrotate"]) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch {
      // not there, try the next one
    }
  }
  try {
    return execFileSync("sh", ["-c", "command -v logrotate"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Path of the logrotate binary; installs the Debian package (apt-get) if it is missing. */
export function ensureLogrotate(): string {
  if (installed !== null) return installed;
  let path = logrotateOnPath();
  if (path === null) {
    aptInstall("logrotate");
    path = logrotateOnPath();
    if (path === null) throw new Error("apt-get installed logrotate but no logrotate binary was found on PATH or in /usr/sbin");
  }
  installed = path;
  return path;
}

export type RotateMode = "create" | "copytruncate";

export interface LogrotateSetup {
  config: string;
  state: string;
}

/**
 * Writes a config for `logPath` and a state file path, both in `dir` (which
 * must not be the log's directory if the rule globs it). Nothing is ever
 * deleted (`rotate 10000`); `.1` stays plain (`delaycompress`), older copies
 * become `.N.gz`.
 */
export function writeLogrotateConfig(dir: string, logPath: string, mode: RotateMode, extra: string[] = []): LogrotateSetup {
  const config = join(dir, "logrotate.conf");
  const state = join(dir, "logrotate.state");
  const lines = [
    `${logPath} {`,
    "  rotate 10000",
    "  missingok",
    "  notifempty",
    "  compress",
    "  delaycompress",
    `  ${mode}`,
    ...extra.map((line) => `  ${line}`),
    "}",
    "",
  ];
  writeFileSync(config, lines.join("\n"), { mode: 0o644 });
  return { config, state };
}

export interface RotationRun {
  /** Runs that exited 0. */
  rotations: number;
  /** Runs that exited otherwise, with what they printed. */
  failures: string[];
}

/**
 * `logrotate -f` in a loop — spawn, wait for its exit, sleep `intervalMs` —
 * until `signal` aborts. Resolves with the counts once the last run ended.
 */
export async function forceRotations(binary: string, setup: LogrotateSetup, intervalMs: number, signal: AbortSignal): Promise<RotationRun> {
  const result: RotationRun = { rotations: 0, failures: [] };
  while (!signal.aborted) {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(binary, ["-f", "-s", setup.state, setup.config], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("error", reject);
      child.on("close", (exitCode) => resolve({ code: exitCode, output }));
    });
    if (code === 0) result.rotations++;
    else result.failures.push(`exit ${code}: ${output.trim()}`);
    if (signal.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return result;
}
