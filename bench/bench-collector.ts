/**
 * A bundled collector process for the benchmarks (bench/search.bench.ts,
 * bench/ui.bench.ts): started on a free loopback port over a data_dir, with
 * the dataset's tokens, ready once /readyz answers; stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COLLECTOR_NODE_OPTIONS } from "./node-options.ts";
import { freePort, stop } from "./processes.ts";
import { SEARCH_BENCH_ROOT, TENANT, TOKENS } from "./search-data.ts";

export interface Collector {
  child: ChildProcess;
  url: string;
}

export async function startCollector(logship: string, dataDirectory: string): Promise<Collector> {
  const port = await freePort();
  const config = join(SEARCH_BENCH_ROOT, `collector-${port}.yaml`);
  const tokens = Object.entries(TOKENS).map(([role, token]) => `{ token: ${token}, tenant: ${TENANT}, role: ${role} }`);
  writeFileSync(config, `listen: 127.0.0.1:${port}\ndata_dir: ${dataDirectory}\ntokens: [${tokens.join(", ")}]\n`);
  const child = spawn(process.execPath, [...COLLECTOR_NODE_OPTIONS, logship, "collector", "--config", config, "--log-format", "json", "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`collector at ${url} not ready within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  rmSync(config);
  return { child, url };
}

export async function stopCollector(collector: Collector): Promise<void> {
  await stop(collector.child);
}
