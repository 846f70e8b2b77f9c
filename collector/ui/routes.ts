/**
 * Serves the web UI (docs/UI.md) on every collector: `GET /` (and
 * `/index.html`) the page, `GET /ui/app.js` and `/ui/app.css` its code and
 * style. No token is needed for these files; the page asks for a search
 * token and sends it with every API call.
 *
 * The assets are loaded on the first request (assets.ts: built from the
 * sources, read from the bundle or from the executable) and kept; a load
 * that fails is answered 500 LOGSHIP_UI_UNAVAILABLE, logged, and tried
 * again by the next request. Answers carry an ETag (a repeat visit gets
 * 304), gzip when the client accepts it, and headers that keep the page
 * to its own origin: a Content-Security-Policy allowing only its own
 * script, style and API, no framing, no referrer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../shared/logger.ts";
import type { RouteHandler } from "../admin/routes.ts";
import { sendJson } from "../ingest/server.ts";
import type { UiAssetName } from "./build.ts";
import type { UiAssets } from "./assets.ts";

const PATHS: Readonly<Record<string, UiAssetName>> = { "/": "index.html", "/index.html": "index.html", "/ui/app.js": "app.js", "/ui/app.css": "app.css" };

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

export interface UiRoutesOptions {
  logger: Logger;
  /** Where the assets come from (default assets.ts loadUiAssets; tests give their own). */
  load?: () => Promise<UiAssets>;
}

export function uiRoutes(options: UiRoutesOptions): RouteHandler {
  let assets: Promise<UiAssets> | undefined;
  const load = async (): Promise<UiAssets> => (options.load ?? (await import("./assets.ts")).loadUiAssets)();
  return (request, response, path) => {
    const name = PATHS[path];
    if (name === undefined) return false;
    if (request.method !== "GET" && request.method !== "HEAD") {
      sendJson(response, 405, { error: "use GET", code: "LOGSHIP_METHOD_NOT_ALLOWED" }, { Allow: "GET, HEAD" });
      return true;
    }
    assets ??= load();
    assets.then(
      (loaded) => serve(request, response, loaded, name),
      (error: unknown) => {
        assets = undefined;
        options.logger.error("the web UI's assets could not be loaded", { error: error instanceof Error ? error.message : String(error) });
        if (!response.headersSent) sendJson(response, 500, { error: "the web UI's assets could not be loaded; see the collector's log", code: "LOGSHIP_UI_UNAVAILABLE" });
      },
    );
    return true;
  };
}

function serve(request: IncomingMessage, response: ServerResponse, assets: UiAssets, name: UiAssetName): void {
  const asset = assets.get(name);
  if (asset === undefined) throw new Error(`the web UI asset ${name} was not loaded`);
  const headers: Record<string, string | number> = { ...SECURITY_HEADERS, "Content-Type": asset.contentType, "Cache-Control": "no-cache", ETag: asset.etag, Vary: "Accept-Encoding" };
  if (request.headers["if-none-match"] === asset.etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  const gzip = /\bgzip\b/.test(request.headers["accept-encoding"] ?? "");
  const body = gzip ? asset.gzip : asset.body;
  if (gzip) headers["Content-Encoding"] = "gzip";
  headers["Content-Length"] = body.length;
  response.writeHead(200, headers);
  response.end(request.method === "HEAD" ? undefined : body);
}
