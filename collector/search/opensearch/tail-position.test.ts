import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SearchRequestError } from "../errors.ts";
import { compareStampPositions, formatStampPosition, parseStampPosition, positionAfterRead, settledPosition, tailSearchBody, type StampPosition } from "./tail-position.ts";

const header = (text: string) => ({ name: "Last-Event-ID" as const, text });

test("tail positions: `<ms>-<id>` after an event, `<ms>` before every document of that ms; ids percent-encoded; parse(format(p)) is p", () => {
  assert.equal(formatStampPosition({ indexedAtMs: 1796000000123, id: "streamAAAAAAAAAA2s" }), "1796000000123-streamAAAAAAAAAA2s");
  assert.equal(formatStampPosition({ indexedAtMs: 1796000000123, id: "" }), "1796000000123");
  assert.equal(formatStampPosition({ indexedAtMs: 5, id: "a b\nc-d" }), "5-a%20b%0Ac-d", "an id with a line break still fits an SSE id line");
  assert.deepEqual(parseStampPosition(header("1796000000123")), { indexedAtMs: 1796000000123, id: "" });
  assert.deepEqual(parseStampPosition(header("7-x-y")), { indexedAtMs: 7, id: "x-y" }, "the first - separates");
  fc.assert(
    fc.property(fc.nat({ max: 999_999_999_999_999 }), fc.string({ unit: "grapheme", maxLength: 40 }), (indexedAtMs, id) => {
      assert.deepEqual(parseStampPosition(header(formatStampPosition({ indexedAtMs, id }))), { indexedAtMs, id });
    }),
  );
});

test("tail positions: anything the tail did not send is 400 LOGSHIP_SEARCH_REQUEST naming where it came from", () => {
  for (const text of ["yesterday", "-1", "12a", "1234567890123456", "5-", "5-%zz", "5-%41", `5-${"x".repeat(5000)}`]) {
    assert.throws(
      () => parseStampPosition({ name: "last_event_id", text }),
      (error: unknown) => error instanceof SearchRequestError && error.code === "LOGSHIP_SEARCH_REQUEST" && error.message.startsWith("last_event_id: expected a position the tail sent"),
      text,
    );
  }
});

test("tail positions order by (indexed_at, id), ids by code point; the settled position is after every stamp up to the horizon", () => {
  const positions: StampPosition[] = [
    { indexedAtMs: 10, id: "" },
    { indexedAtMs: 10, id: "B" },
    { indexedAtMs: 10, id: "a" },
    { indexedAtMs: 10, id: "é" },
    { indexedAtMs: 11, id: "" },
    { indexedAtMs: 11, id: "0" },
  ];
  for (const [index, position] of positions.entries()) {
    for (const [other, second] of positions.entries()) assert.equal(Math.sign(compareStampPositions(position, second)), Math.sign(index - other), `${JSON.stringify(position)} vs ${JSON.stringify(second)}`);
  }
  const settled = settledPosition(10);
  assert.ok(positions.slice(0, 4).every((position) => compareStampPositions(position, settled) < 0));
  assert.ok(positions.slice(4).every((position) => compareStampPositions(position, settled) >= 0));
});

test("a tail read: the tenant's documents matching the query, strictly after the position by search_after, stamped up to the horizon, in (indexed_at, id) order", () => {
  const query = { term: { host: "web-1" } };
  assert.deepEqual(tailSearchBody({ tenant: "a", query, after: { indexedAtMs: 1000, id: "e1" }, horizonMs: 4000, size: 1000 }), {
    size: 1000,
    track_total_hits: false,
    query: { bool: { filter: [{ term: { tenant: "a" } }, { range: { indexed_at: { gte: 1000, lte: 4000, format: "epoch_millis" } } }, query] } },
    sort: [{ indexed_at: { order: "asc", unmapped_type: "date" } }, { id: { order: "asc" } }],
    search_after: [1000, "e1"],
  });
});

test("after a read the tail is at the last hit of a full read, else past the horizon; never back (a clock set back)", () => {
  const current = { indexedAtMs: 1000, id: "e5" };
  assert.deepEqual(positionAfterRead(current, { lastHit: { indexedAtMs: 1200, id: "e9" }, full: true, horizonMs: 5000 }), { indexedAtMs: 1200, id: "e9" }, "a full read: hits after the last one may wait");
  assert.deepEqual(positionAfterRead(current, { lastHit: { indexedAtMs: 1200, id: "e9" }, full: false, horizonMs: 5000 }), { indexedAtMs: 5001, id: "" }, "fewer than asked: everything up to the horizon was read");
  assert.deepEqual(positionAfterRead(current, { lastHit: undefined, full: false, horizonMs: 5000 }), { indexedAtMs: 5001, id: "" }, "nothing new: the horizon still moves the position");
  assert.deepEqual(positionAfterRead(current, { lastHit: undefined, full: false, horizonMs: 400 }), current, "a horizon behind the position leaves it");
  assert.deepEqual(positionAfterRead({ indexedAtMs: 1000, id: "" }, { lastHit: undefined, full: false, horizonMs: 999 }), { indexedAtMs: 1000, id: "" }, "(h + 1, '') is where it stands");
});
