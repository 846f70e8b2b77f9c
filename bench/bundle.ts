/**
 * Benchmarks run logship as one bundled JavaScript file, as it ships (the
 * single executable of issue 7): loading TypeScript through Node's type
 * stripping costs ~40 MB of RSS that users never pay.
 *
 * Whitespace and syntax are minified (names are kept, so stack traces stay
 * readable): V8 keeps a module's source text on its heap, so a smaller
 * source is a smaller heap in every process, the agent's included.
 */
import { join } from "node:path";

export async function bundle(entry: string, outfile: string): Promise<string> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outfile,
    logLevel: "warning",
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}

/** bin/logship.ts bundled into `directory`. */
export function bundleLogship(directory: string): Promise<string> {
  return bundle(join(import.meta.dirname, "..", "bin", "logship.ts"), join(directory, "logship.bundle.mjs"));
}
