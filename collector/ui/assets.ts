/**
 * Where the running collector finds the web UI's assets (build.ts makes
 * them), wherever it runs from:
 *
 *   - the single executable (packaging/build-sea.ts): the SEA assets
 *     `ui/index.html`, `ui/app.js`, `ui/app.css`, read with node:sea;
 *   - a bundle (bench/bundle.ts): the `ui/` directory beside the bundle's
 *     entry (this code sits in that directory or in its `chunks/`);
 *   - the sources: built now by build.ts, in memory. The import's path is
 *     computed so that a bundler never follows it (esbuild cannot be
 *     bundled, and a bundle or the executable never takes this way).
 *
 * Each asset is kept with its gzip form (served to clients that accept it),
 * its content type and an ETag (its SHA-256), all made once.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { UiAssetName } from "./build.ts";

/** The asset names, also in build.ts (which this module must not import: it imports esbuild). */
const ASSET_NAMES: readonly UiAssetName[] = ["index.html", "app.js", "app.css"];
/** SEA asset keys are these names under this prefix. */
export const UI_SEA_PREFIX = "ui/";

const CONTENT_TYPES: Record<UiAssetName, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

export interface UiAsset {
  body: Buffer;
  gzip: Buffer;
  contentType: string;
  etag: string;
}

export type UiAssets = ReadonlyMap<UiAssetName, UiAsset>;

export async function loadUiAssets(): Promise<UiAssets> {
  const raw = await rawAssets();
  return new Map(
    ASSET_NAMES.map((name) => {
      const bytes = raw.get(name);
      if (bytes === undefined) throw new Error(`the web UI asset ${name} is missing`);
      const body = Buffer.from(bytes);
      return [name, { body, gzip: gzipSync(body, { level: 9 }), contentType: CONTENT_TYPES[name], etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` }];
    }),
  );
}

async function rawAssets(): Promise<Map<UiAssetName, Uint8Array>> {
  const sea = process.getBuiltinModule("node:sea");
  if (sea.isSea()) return new Map(ASSET_NAMES.map((name) => [name, new Uint8Array(sea.getAsset(UI_SEA_PREFIX + name))]));
  if (import.meta.url.endsWith(".ts")) {
    const builder = new URL("./build.ts", import.meta.url).href;
    const { buildUiAssets } = (await import(builder)) as typeof import("./build.ts");
    return buildUiAssets();
  }
  for (const candidate of ["./ui/", "../ui/"]) {
    const directory = new URL(candidate, import.meta.url);
    if (!existsSync(fileURLToPath(new URL("index.html", directory)))) continue;
    return new Map(await Promise.all(ASSET_NAMES.map(async (name): Promise<[UiAssetName, Uint8Array]> => [name, await readFile(fileURLToPath(new URL(name, directory)))])));
  }
  throw new Error(`the web UI's ui/ directory is not beside this bundle (${fileURLToPath(import.meta.url)}); bench/bundle.ts writes it`);
}
