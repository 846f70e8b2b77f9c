/**
 * Benchmarks and memory tests run logship bundled, as it ships (the single
 * executable, packaging/build-sea.ts, bundles the same sources, though into
 * one CommonJS file: docs/PACKAGING.md): loading
 * TypeScript through Node's type stripping costs ~40 MB of RSS that users
 * never pay.
 *
 * Whitespace and syntax are minified (names are kept, so stack traces stay
 * readable): V8 keeps a module's source text on its heap, so a smaller
 * source is a smaller heap in every process, the agent's included.
 */
import { dirname, join } from "node:path";
import { writeUiAssets } from "../collector/ui/build.ts";
import { lazyBuiltins } from "../packaging/lazy-builtins.ts";

/** The collector's decode worker thread: an entry of its own, beside the main one (collector/ingest/decode-pool.ts finds it there). */
const DECODE_WORKER = join(import.meta.dirname, "..", "collector", "ingest", "decode-worker.ts");
/** The archive's Parquet encoder thread: an entry of its own too (collector/sinks/archive/parquet-encoder.ts finds it there). */
const PARQUET_ENCODER_WORKER = join(import.meta.dirname, "..", "collector", "sinks", "archive", "parquet-encoder-worker.ts");

/** The search index's partition writer thread: an entry of its own too (collector/search/block-writer.ts finds it there). */
const BLOCK_WRITER_WORKER = join(import.meta.dirname, "..", "collector", "search", "block-writer-worker.ts");

/** CommonJS dependencies inside an ES module bundle call require(); this gives them Node's. */
const REQUIRE_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** `entry` bundled into one file, `outfile`, with the decode worker, the Parquet encoder worker, the index writer worker and the web UI's `ui/` beside it (for a bundle that runs a collector). */
export async function bundle(entry: string, outfile: string): Promise<string> {
  const { build } = await import("esbuild");
  const options = { bundle: true, platform: "node", format: "esm", target: "node22", logLevel: "warning", minifyWhitespace: true, minifySyntax: true, banner: { js: REQUIRE_BANNER } } as const;
  await build({ ...options, entryPoints: [entry], outfile });
  await build({ ...options, entryPoints: [DECODE_WORKER], outfile: join(dirname(outfile), "decode-worker.mjs") });
  await build({ ...options, entryPoints: [PARQUET_ENCODER_WORKER], outfile: join(dirname(outfile), "parquet-encoder-worker.mjs") });
  await build({ ...options, entryPoints: [BLOCK_WRITER_WORKER], outfile: join(dirname(outfile), "block-writer-worker.mjs") });
  await writeUiAssets(join(dirname(outfile), "ui"));
  return outfile;
}

/**
 * bin/logship.ts bundled into `directory`/logship: the entry `logship.mjs`
 * (the CLI and each command's options) and one chunk per part loaded on
 * demand (esbuild's code splitting: every dynamic import is a chunk). A
 * process parses and keeps only the code of the command it runs: the agent
 * never holds the collector, the search index, Kafka or the config schemas
 * of the other roles (one file for everything made every process hold the
 * whole source text and its pre-parse data, though it runs none of it). The
 * web UI's files go into `ui/` beside the entry (collector/ui/assets.ts
 * finds them there). Returns the entry's path.
 */
export async function bundleLogship(directory: string): Promise<string> {
  const { build } = await import("esbuild");
  const outdir = join(directory, "logship");
  await build({
    entryPoints: { logship: join(import.meta.dirname, "..", "bin", "logship.ts"), "decode-worker": DECODE_WORKER, "parquet-encoder-worker": PARQUET_ENCODER_WORKER, "block-writer-worker": BLOCK_WRITER_WORKER },
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    logLevel: "warning",
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: REQUIRE_BANNER },
    // Node modules that dependencies require for paths logship never takes load at first use (as in the single executable).
    plugins: [lazyBuiltins],
  });
  await writeUiAssets(join(outdir, "ui"));
  return join(outdir, "logship.mjs");
}
