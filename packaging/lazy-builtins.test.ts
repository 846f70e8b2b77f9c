import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { standInSource } from "./lazy-builtins.ts";

/** Runs the stand-in for node:http2 in a fresh node; says whether http2 was loaded after reading its constants, and after reading `connect`. */
function loadedAfter(): { afterConstants: boolean; afterConnect: boolean; authority: unknown; connectType: string } {
  const source = standInSource({ specifier: "node:http2", importer: /client-h2\.js$/, eager: ["constants"] });
  const script = `
    const module = { exports: {} };
    new Function("module", "require", ${JSON.stringify(source)})(module, require);
    const loaded = () => process.moduleLoadList.includes("NativeModule http2");
    const authority = module.exports.constants.HTTP2_HEADER_AUTHORITY;
    const afterConstants = loaded();
    const connectType = typeof module.exports.connect;
    console.log(JSON.stringify({ afterConstants, afterConnect: loaded(), authority, connectType }));
  `;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" })) as ReturnType<typeof loadedAfter>;
}

test("the http2 stand-in gives undici its constants without loading node:http2, and loads it at the first other read", () => {
  const result = loadedAfter();
  assert.equal(result.authority, ":authority");
  assert.equal(result.afterConstants, false, "reading constants does not load http2");
  assert.equal(result.connectType, "function");
  assert.equal(result.afterConnect, true);
});
