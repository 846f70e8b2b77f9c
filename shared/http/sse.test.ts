import { test } from "node:test";
import assert from "node:assert/strict";
import { SseParser, sseMessage } from "./sse.ts";

test("sseMessage: comment, retry, id and one data line, then a blank line; line breaks in an id or the data are refused", () => {
  assert.equal(sseMessage({ id: "17", data: '{"a":1}' }), 'id: 17\ndata: {"a":1}\n\n');
  assert.equal(sseMessage({ retryMs: 1000, id: "5" }), "retry: 1000\nid: 5\n\n");
  assert.equal(sseMessage({ comment: "ping" }), ": ping\n\n");
  assert.equal(sseMessage({ comment: "ping", id: "9" }), ": ping\nid: 9\n\n");
  assert.throws(() => sseMessage({ data: "a\nb" }), RangeError);
  assert.throws(() => sseMessage({ id: "1\r" }), RangeError);
});

test("SseParser: messages however the text is cut, LF/CRLF/CR line ends, comments skipped, id-only messages move the last id, the id persists", () => {
  const stream = "retry: 1000\nid: 5\n\n: ping\n\nid: 6\ndata: {\"n\":6}\n\r\ndata: first\r\ndata: second\r\rid: 8\rdata:x\n\n";
  const expected = [
    { lastEventId: "5", data: null },
    { lastEventId: "6", data: '{"n":6}' },
    { lastEventId: "6", data: "first\nsecond" },
    { lastEventId: "8", data: "x" },
  ];
  // Whole, one character at a time, and cut at every place into two.
  const whole = new SseParser(1000);
  assert.deepEqual(whole.push(stream), expected);
  const single = new SseParser(1000);
  assert.deepEqual([...stream].flatMap((char) => single.push(char)), expected);
  for (let cut = 0; cut <= stream.length; cut++) {
    const parser = new SseParser(1000);
    assert.deepEqual([...parser.push(stream.slice(0, cut)), ...parser.push(stream.slice(cut))], expected, `cut at ${cut}`);
  }
  // What sseMessage writes reads back.
  const roundTrip = new SseParser(1000);
  assert.deepEqual(roundTrip.push(sseMessage({ id: "42", data: "{}" }) + sseMessage({ comment: "ping" })), [{ lastEventId: "42", data: "{}" }]);
});

test("SseParser: a line longer than its limit is an error, in one piece or many", () => {
  assert.throws(() => new SseParser(10).push(`data: ${"x".repeat(20)}\n`), /longer than 10 characters/);
  const parser = new SseParser(10);
  assert.throws(() => {
    for (let index = 0; index < 20; index++) parser.push("x");
  }, /longer than 10 characters/);
});
