/**
 * Starting a worker thread whose code ships three ways: as a `.ts` file
 * beside the module that starts it (sources, type stripping), as
 * `<entry>.mjs` beside the bundle or one directory up from its chunks/
 * (bench/bundle.ts), and as the CommonJS asset `<entry>.cjs` of the single
 * executable (packaging/build-sea.ts). The decode pool, the Parquet encoder
 * and the search index's writer each start theirs through here.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

export interface BundledWorkerEntry {
  /** The worker's file name without extension (`decode-worker`): `<entry>.ts` beside `moduleUrl`, `<entry>.mjs` in a bundle. */
  entry: string;
  /** The starting module's `import.meta.url` (the sources' directory, or the bundle or chunk file). */
  moduleUrl: string;
  /** The thread's name (shown in inspectors and `/proc/<pid>/task/*\/comm`). */
  threadName: string;
}

/** The single executable's asset name of an entry's CommonJS code. */
export function bundledWorkerAsset(entry: string): string {
  return `${entry}.cjs`;
}

/** Starts the entry's worker from wherever this code runs. */
export function startBundledWorker(spec: BundledWorkerEntry, workerData?: unknown): Worker {
  const sea = process.getBuiltinModule("node:sea");
  const data = workerData === undefined ? {} : { workerData };
  if (sea.isSea()) return new Worker(sea.getAsset(bundledWorkerAsset(spec.entry), "utf8"), { name: spec.threadName, eval: true, ...data });
  return new Worker(bundledWorkerUrl(spec), { name: spec.threadName, ...data });
}

/** `<entry>.ts` beside the starting module (sources), or `<entry>.mjs` at the root of a bundle (the module in it or in its chunks/). */
function bundledWorkerUrl(spec: BundledWorkerEntry): URL {
  if (spec.moduleUrl.endsWith(".ts")) return new URL(`./${spec.entry}.ts`, spec.moduleUrl);
  for (const candidate of [`./${spec.entry}.mjs`, `../${spec.entry}.mjs`]) {
    const url = new URL(candidate, spec.moduleUrl);
    if (existsSync(fileURLToPath(url))) return url;
  }
  throw new Error(`${spec.entry}.mjs is not beside this bundle (${fileURLToPath(spec.moduleUrl)}); bench/bundle.ts emits it`);
}
