/**
 * `npm run package`: logship as one Linux x64 executable,
 * dist/logship-linux-x64, a Node single-executable application (SEA) made
 * from the pinned Node 24 (the devDependency `node`, which runs this script
 * under npm) with the documented flow (docs/PACKAGING.md):
 *
 * 1. esbuild bundles packaging/sea-main.ts (the CLI, agent, collector and
 *    every dependency) into one CommonJS file, and the collector's decode
 *    worker and the archive's Parquet encoder worker into one each; the git
 *    commit goes in as LOGSHIP_BUILD_COMMIT.
 * 2. `node --experimental-sea-config` writes the blob: the main script and
 *    the assets, which the program reads with `node:sea` getAsset: the
 *    decode worker's code (collector/ingest/decode-pool.ts), the Parquet
 *    encoder worker's (collector/sinks/archive/parquet-encoder.ts), the Kafka
 *    client's WebAssembly (below) and the web UI's files
 *    (collector/ui/build.ts, served by collector/ui/routes.ts).
 * 3. A copy of the node binary gets the blob injected by postject, which
 *    flips the SEA fuse.
 *
 * Nothing is downloaded; the executable needs no node_modules, no native
 * addon and no network at run time.
 *
 *   npm run package [-- --out DIR]
 */
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { DECODE_WORKER_ASSET } from "../collector/ingest/decode-pool.ts";
import { PARQUET_ENCODER_WORKER_ASSET } from "../collector/sinks/archive/parquet-encoder.ts";
import { BLOCK_WRITER_WORKER_ASSET } from "../collector/search/block-writer.ts";
import { UI_SEA_PREFIX } from "../collector/ui/assets.ts";
import { UI_ASSET_NAMES, writeUiAssets } from "../collector/ui/build.ts";
import { gitHead } from "../shared/cli/commands/version.ts";
import type { Plugin } from "esbuild";
import { lazyBuiltins } from "./lazy-builtins.ts";

const ROOT = join(import.meta.dirname, "..");
/** The fuse postject flips so that node runs the injected blob (Node's documentation, Single executable applications). */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
export const BINARY_NAME = "logship-linux-x64";
/** The SEA asset holding the Kafka client's WebAssembly (@platformatic/wasm-utils native.wasm). */
const KAFKA_WASM_ASSET = "platformatic-wasm-utils.wasm";

export interface BuiltBinary {
  path: string;
  bytes: number;
  commit: string;
}

/** Builds `outDirectory`/logship-linux-x64 (intermediate files in `outDirectory`/sea/). */
export async function buildSea(outDirectory: string): Promise<BuiltBinary> {
  const major = Number(process.versions.node.split(".")[0]);
  if (process.platform !== "linux" || process.arch !== "x64" || major < 24) {
    throw new Error(`the single executable is built by Node >= 24 on linux-x64 (the devDependency node; run npm run package), not by ${process.version} on ${process.platform}-${process.arch}`);
  }
  const work = join(outDirectory, "sea");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const commit = gitHead(ROOT) ?? "unknown";
  const main = join(work, "logship.cjs");
  const worker = join(work, DECODE_WORKER_ASSET);
  await bundleCommonJs(join(ROOT, "packaging", "sea-main.ts"), main, commit, [lazyBuiltins]);
  await bundleCommonJs(join(ROOT, "collector", "ingest", "decode-worker.ts"), worker, commit);
  const parquetWorker = join(work, PARQUET_ENCODER_WORKER_ASSET);
  await bundleCommonJs(join(ROOT, "collector", "sinks", "archive", "parquet-encoder-worker.ts"), parquetWorker, commit);
  const indexWriterWorker = join(work, BLOCK_WRITER_WORKER_ASSET);
  await bundleCommonJs(join(ROOT, "collector", "search", "block-writer-worker.ts"), indexWriterWorker, commit);
  const ui = await writeUiAssets(join(work, "ui"));
  const uiAssets = Object.fromEntries(UI_ASSET_NAMES.map((name) => [UI_SEA_PREFIX + name, join(ui, name)]));

  const blob = join(work, "logship.blob");
  const config = { main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets: { [DECODE_WORKER_ASSET]: worker, [PARQUET_ENCODER_WORKER_ASSET]: parquetWorker, [BLOCK_WRITER_WORKER_ASSET]: indexWriterWorker, [KAFKA_WASM_ASSET]: kafkaWasmPath(), ...uiAssets } };
  const configPath = join(work, "sea-config.json");
  await writeFile(configPath, JSON.stringify(config, null, 2) + "\n");
  execFileSync(process.execPath, ["--experimental-sea-config", configPath], { stdio: "pipe" });

  const binary = join(outDirectory, BINARY_NAME);
  await rm(binary, { force: true });
  await copyFile(process.execPath, binary);
  await chmod(binary, 0o755);
  const postject = join(dirname(createRequire(import.meta.url).resolve("postject")), "cli.js");
  execFileSync(process.execPath, [postject, binary, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], { stdio: "pipe" });
  return { path: binary, bytes: (await stat(binary)).size, commit };
}

/** What import.meta.url becomes in the CommonJS bundles. */
const MODULE_URL = "__logshipModuleUrl";

/** `entry` and everything it imports in one CommonJS file for Node 24 (the CLI's with lazyBuiltins: lazy-builtins.ts). */
async function bundleCommonJs(entry: string, outfile: string, commit: string, plugins: readonly Plugin[] = []): Promise<void> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node24",
    logLevel: "warning",
    // import.meta is empty in CommonJS. import.meta.url becomes the executable's file URL: the Kafka client calls createRequire(import.meta.url) when imported (for optional packages, which it does without). logship's own uses are not reached in the executable (the decode worker comes from its asset, the commit from `define`); the binary's test runs both.
    banner: { js: `var ${MODULE_URL} = require("node:url").pathToFileURL(__filename).href;` },
    logOverride: { "empty-import-meta": "silent" },
    minifyWhitespace: true,
    minifySyntax: true,
    define: { LOGSHIP_BUILD_COMMIT: JSON.stringify(commit), "import.meta.url": MODULE_URL },
    plugins: [kafkaWasmFromAsset, ...plugins],
  });
}

/** The Kafka client's WebAssembly (@platformatic/wasm-utils, a dependency of @platformatic/kafka). */
function kafkaWasmPath(): string {
  const kafka = createRequire(import.meta.url).resolve("@platformatic/kafka");
  return join(dirname(createRequire(kafka).resolve("@platformatic/wasm-utils")), "native.wasm");
}

/**
 * @platformatic/wasm-utils reads native.wasm beside its own code when
 * imported: `readFileSync(new URL('../dist/native.wasm', import.meta.url))`.
 * In the executable there is no such file; the bytes are the SEA asset
 * KAFKA_WASM_ASSET. The build fails if a new version reads it another way.
 */
const kafkaWasmFromAsset = {
  name: "kafka-wasm-from-sea-asset",
  setup(build: { onLoad(options: { filter: RegExp }, callback: (args: { path: string }) => Promise<{ contents: string; loader: "js" }>): void }): void {
    build.onLoad({ filter: /[\\/]@platformatic[\\/]wasm-utils[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const read = "readFileSync(new URL('../dist/native.wasm', import.meta.url))";
      if (!source.includes(read)) throw new Error(`${args.path} no longer reads its WebAssembly with ${read}; packaging/build-sea.ts must learn the new way`);
      return { contents: source.replace(read, `process.getBuiltinModule("node:sea").getAsset(${JSON.stringify(KAFKA_WASM_ASSET)})`), loader: "js" };
    });
  },
};

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string", default: join(ROOT, "dist") } } });
  const built = await buildSea(values.out);
  process.stdout.write(`${built.path}: ${(built.bytes / 2 ** 20).toFixed(1)} MiB, commit ${built.commit}\n`);
}
