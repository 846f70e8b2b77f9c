import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { request } from "undici";
import { silentLogger } from "../../shared/logger.ts";
import { loadUiAssets, type UiAssets } from "./assets.ts";
import { uiRoutes, type UiRoutesOptions } from "./routes.ts";

async function serve(t: { after: (fn: () => unknown) => void }, options: UiRoutesOptions): Promise<string> {
  const routes = uiRoutes(options);
  const server: Server = createServer((incoming, response) => {
    if (!routes(incoming, response, (incoming.url ?? "/").split("?", 1)[0] ?? "/")) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test("the page from the sources: index.html loads /ui/app.js and /ui/app.css, all three built and served with their types, a CSP and an ETag (304 when unchanged), gzip when accepted", async (t) => {
  const url = await serve(t, { logger: silentLogger });
  const page = await request(`${url}/?q=x&range=1h`);
  const html = await page.body.text();
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
  assert.match(String(page.headers["content-security-policy"]), /script-src 'self'/);
  assert.match(html, /<script type="module" src="\/ui\/app.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="\/ui\/app.css">/);
  const script = await request(`${url}/ui/app.js`, { headers: { "accept-encoding": "gzip" } });
  assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
  assert.equal(script.headers["content-encoding"], "gzip");
  const code = gunzipSync(Buffer.from(await script.body.arrayBuffer())).toString("utf8");
  assert.match(code, /sessionStorage/);
  const style = await request(`${url}/ui/app.css`);
  assert.match(await style.body.text(), /prefers-color-scheme:dark/);
  const again = await request(`${url}/`, { headers: { "if-none-match": String(page.headers["etag"]) } });
  await again.body.dump();
  assert.equal(again.statusCode, 304);
});

test("UI routes: only their paths, GET and HEAD only; a failed asset load is 500 LOGSHIP_UI_UNAVAILABLE and is tried again by the next request", async (t) => {
  const assets: UiAssets = await loadUiAssets();
  let loads = 0;
  const url = await serve(t, {
    logger: silentLogger,
    load: async () => {
      loads++;
      if (loads === 1) throw new Error("disk on fire");
      return assets;
    },
  });
  const failed = await request(`${url}/`);
  assert.deepEqual([failed.statusCode, ((await failed.body.json()) as { code: string }).code], [500, "LOGSHIP_UI_UNAVAILABLE"]);
  const head = await request(`${url}/index.html`, { method: "HEAD" });
  await head.body.dump();
  assert.deepEqual([head.statusCode, Number(head.headers["content-length"])], [200, assets.get("index.html")?.body.length]);
  const post = await request(`${url}/`, { method: "POST", body: "x" });
  await post.body.dump();
  assert.equal(post.statusCode, 405);
  const other = await request(`${url}/ui/other.js`);
  await other.body.dump();
  assert.equal(other.statusCode, 404);
  assert.equal(loads, 2);
});
