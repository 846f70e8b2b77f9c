import { test } from "node:test";
import assert from "node:assert/strict";
import { LogshipError } from "../errors.ts";
import type { CollectorAnswer, CollectorTarget } from "./collector-api.ts";
import { ServerFallback } from "./server-fallback.ts";

const A = { url: "http://a:7170", token: "t" };
const B = { url: "http://b:7170", token: "t" };
const C = { url: "http://c:7170", token: "t" };

/** A request function whose collectors behave as `behaviour` says at the time of the call; it records who was asked. */
function fakeCollectors(behaviour: Record<string, "down" | number>): { asked: string[]; request: (target: CollectorTarget) => Promise<CollectorAnswer> } {
  const asked: string[] = [];
  return {
    asked,
    request: async (target) => {
      asked.push(target.url);
      const state = behaviour[target.url];
      if (state === "down" || state === undefined) throw new LogshipError("LOGSHIP_UNREACHABLE", `no answer from ${target.url}/v1/search: connect ECONNREFUSED`);
      return { status: state, body: `{"from":"${target.url}"}` };
    },
  };
}

test("several --server: the first that answers is asked, and asked again next time; a 4xx is the answer; when none answers, every reason is named", async () => {
  const behaviour: Record<string, "down" | number> = { [A.url]: "down", [B.url]: 503, [C.url]: 200 };
  const collectors = fakeCollectors(behaviour);
  const warnings: string[] = [];
  const fallback = new ServerFallback([A, B, C], collectors.request, (message) => warnings.push(message));
  const first = await fallback.get("/v1/search", 1000);
  assert.deepEqual([first.target, first.answer.status, collectors.asked], [C, 200, [A.url, B.url, C.url]]);
  assert.deepEqual(warnings, ["no answer from http://a:7170/v1/search: connect ECONNREFUSED; asking http://b:7170", "http://b:7170 answered 503; asking http://c:7170"]);
  // The next page goes to the collector that answered.
  collectors.asked.length = 0;
  assert.equal((await fallback.get("/v1/search", 1000)).target, C);
  assert.deepEqual(collectors.asked, [C.url]);
  // When it goes down, the others are asked in turn, starting after it.
  behaviour[C.url] = "down";
  behaviour[A.url] = 401;
  collectors.asked.length = 0;
  const refused = await fallback.get("/v1/search", 1000);
  assert.deepEqual([refused.target, refused.answer.status, collectors.asked], [A, 401, [C.url, A.url]]);
  // None answering below 500: the last 5xx answer (its reason is the collector's); none answering at all: every reason.
  behaviour[A.url] = "down";
  assert.equal((await fallback.get("/v1/search", 1000)).answer.status, 503);
  behaviour[B.url] = "down";
  await assert.rejects(fallback.get("/v1/search", 1000), (error: LogshipError) => {
    assert.equal(error.code, "LOGSHIP_UNREACHABLE");
    assert.match(error.message, /^no collector answered: no answer from http:\/\/a:7170.*; no answer from http:\/\/b:7170.*; no answer from http:\/\/c:7170/);
    return true;
  });
});

test("one --server: its own failure, unchanged, and no warning", async () => {
  const warnings: string[] = [];
  const fallback = new ServerFallback([A], fakeCollectors({ [A.url]: "down" }).request, (message) => warnings.push(message));
  await assert.rejects(fallback.get("/v1/search", 1000), { code: "LOGSHIP_UNREACHABLE", message: "no answer from http://a:7170/v1/search: connect ECONNREFUSED" });
  assert.deepEqual(warnings, []);
  assert.throws(() => new ServerFallback([], fakeCollectors({}).request, () => {}), RangeError);
});
