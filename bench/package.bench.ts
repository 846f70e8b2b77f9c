/**
 * The single executable (issue 7; docs/PACKAGING.md): its size, and its
 * start-up time to the output of `logship version` (median of RUNS runs,
 * each a fresh process, wall clock from spawn to exit). Beside it, the
 * cost of a role's one restart with its Node options (packaging/role-start.ts):
 * `agent --help` as started and with the restart turned off. Builds into a
 * temporary directory with the script `npm run package` runs.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSea } from "../packaging/build-sea.ts";

const RUNS = 10;

const directory = await mkdtemp(join(tmpdir(), "logship-package-bench-"));
try {
  const buildStartedMs = performance.now();
  const built = await buildSea(directory);
  const buildMs = performance.now() - buildStartedMs;
  print({ case: "binary", bytes: built.bytes, mib: round(built.bytes / 2 ** 20), build_s: round(buildMs / 1000), node: process.version });
  const env = { PATH: "/nonexistent" };
  print({ case: "version (binary)", ...startup(built.path, ["version"], env) });
  print({ case: "version (sources, node bin/logship.ts)", ...startup(process.execPath, [join(import.meta.dirname, "..", "bin", "logship.ts"), "version"], env) });
  print({ case: "agent --help (binary, restarts once with the agent's options)", ...startup(built.path, ["agent", "--help"], env) });
  print({ case: "agent --help (binary, LOGSHIP_ROLE_OPTIONS=off: no restart)", ...startup(built.path, ["agent", "--help"], { ...env, LOGSHIP_ROLE_OPTIONS: "off" }) });
} finally {
  await rm(directory, { recursive: true, force: true });
}

/** Wall-clock milliseconds of RUNS runs of `command ARGS` (after one unmeasured run, which warms the page cache). */
function startup(command: string, args: string[], env: Record<string, string>): { runs: number; median_ms: number; min_ms: number; max_ms: number } {
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const startedMs = performance.now();
    const result = spawnSync(command, args, { env, encoding: "utf8", timeout: 30_000 });
    const elapsedMs = performance.now() - startedMs;
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
    if (run > 0) times.push(elapsedMs);
  }
  times.sort((a, b) => a - b);
  const middle = times.length / 2;
  const median = times.length % 2 === 1 ? (times[Math.floor(middle)] as number) : ((times[middle - 1] as number) + (times[middle] as number)) / 2;
  return { runs: RUNS, median_ms: round(median), min_ms: round(times[0] as number), max_ms: round(times[times.length - 1] as number) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function print(row: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(row) + "\n");
}
