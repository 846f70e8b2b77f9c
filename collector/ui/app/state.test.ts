import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_RANGE, rangeBounds, rangeParameters, stateFromUrl, urlOf, type SearchState } from "./state.ts";

test("the URL holds the query and the range, and reads back the same", () => {
  const states: SearchState[] = [
    { query: "level:error -host:web-1", range: { kind: "relative", span: "1h" } },
    { query: 'a & b "c"', range: { kind: "absolute", sinceMs: Date.parse("2026-11-29T10:00:00Z"), untilMs: Date.parse("2026-11-29T10:05:00.250Z") } },
  ];
  for (const state of states) assert.deepEqual(stateFromUrl(urlOf(state)), state);
  assert.equal(urlOf(states[1] as SearchState), "?q=a+%26+b+%22c%22&since=2026-11-29T10%3A00%3A00.000Z&until=2026-11-29T10%3A05%3A00.250Z");
});

test("a URL without a usable range falls back to the default relative range; no token is ever in it", () => {
  assert.deepEqual(stateFromUrl(""), { query: "", range: { kind: "relative", span: DEFAULT_RANGE } });
  assert.deepEqual(stateFromUrl("?q=x&range=2y"), { query: "x", range: { kind: "relative", span: DEFAULT_RANGE } });
  assert.deepEqual(stateFromUrl("?q=x&since=2026-11-29T11:00:00Z&until=2026-11-29T10:00:00Z").range.kind, "relative");
  assert.deepEqual(stateFromUrl("?q=x&token=secret"), { query: "x", range: { kind: "relative", span: DEFAULT_RANGE } });
});

test("ranges become API parameters (relative ones as durations for the collector's clock) and instants", () => {
  assert.deepEqual(rangeParameters({ kind: "relative", span: "15m" }), { since: "15m" });
  assert.deepEqual(rangeParameters({ kind: "absolute", sinceMs: 0, untilMs: 1000 }), { since: "1970-01-01T00:00:00.000Z", until: "1970-01-01T00:00:01.000Z" });
  assert.deepEqual(rangeBounds({ kind: "relative", span: "7d" }, 10 * 86_400_000), { sinceMs: 3 * 86_400_000, untilMs: 10 * 86_400_000 });
});
