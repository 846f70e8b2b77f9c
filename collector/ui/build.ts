/**
 * Builds the web UI's static assets (docs/UI.md): app/main.ts and what it
 * imports (the query parser and the SSE reader from shared/ among them)
 * bundled by esbuild into one minified ES module, style.css minified, and
 * index.html as it is. Nothing else: no framework, no runtime
 * dependencies.
 *
 * Who calls it: packaging/build-sea.ts (the assets go into the single
 * executable), bench/bundle.ts (beside a bundled logship), and, when the
 * collector runs from the sources, assets.ts on the first request for the
 * page (so the page always matches the sources).
 *
 *   node collector/ui/build.ts [--out DIR]     writes the assets into DIR (default dist/ui)
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

/** The assets, by the name they are served and stored under. */
export const UI_ASSET_NAMES = ["index.html", "app.js", "app.css"] as const;
export type UiAssetName = (typeof UI_ASSET_NAMES)[number];

/** Browsers the bundle is written for: every one with ES2022 modules and :focus-visible. */
const BROWSER_TARGETS = ["chrome100", "firefox100", "safari15.4", "edge100"];

export async function buildUiAssets(): Promise<Map<UiAssetName, Uint8Array>> {
  const { build } = await import("esbuild");
  const common = { bundle: true, write: false, minify: true, target: BROWSER_TARGETS, logLevel: "warning", legalComments: "none" } as const;
  const script = await build({ ...common, entryPoints: [join(import.meta.dirname, "app", "main.ts")], format: "esm", platform: "browser", outfile: "app.js" });
  const style = await build({ ...common, entryPoints: [join(import.meta.dirname, "style.css")], outfile: "app.css" });
  const html = await readFile(join(import.meta.dirname, "index.html"));
  return new Map<UiAssetName, Uint8Array>([
    ["index.html", html],
    ["app.js", onlyOutput(script.outputFiles, "app.js")],
    ["app.css", onlyOutput(style.outputFiles, "app.css")],
  ]);
}

/** Writes the assets into `directory` (created); returns it. */
export async function writeUiAssets(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  for (const [name, bytes] of await buildUiAssets()) await writeFile(join(directory, name), bytes);
  return directory;
}

function onlyOutput(files: { path: string; contents: Uint8Array }[] | undefined, name: string): Uint8Array {
  const file = files?.find((candidate) => candidate.path.endsWith(name));
  if (file === undefined || files?.length !== 1) throw new Error(`esbuild wrote ${files?.length ?? 0} files for ${name}, expected exactly it`);
  return file.contents;
}

// Bundled into another entry (bench bundles), import.meta.main is that entry's: run only as this file.
if (import.meta.main && import.meta.filename.endsWith("build.ts")) {
  const { values } = parseArgs({ options: { out: { type: "string", default: join(import.meta.dirname, "..", "..", "dist", "ui") } } });
  process.stdout.write(`${await writeUiAssets(values.out)}\n`);
}
