import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ASCII_MESSAGE, encodePayload, eventsSegment, payloadEvents, SegmentArena, validatePayload, type WireEventColumns } from "./batch.ts";

const HEADER = { agent: "a1", host: "h", seq: 1, floor: 1, created_ms: 0, streams: [{ key: "k", source: "s", path: "/p", fields: {} }] };

/** Text as a log line may hold it: mostly ASCII, some accents, emoji and lone surrogates (written as U+FFFD). */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom("é", "ascii then é", "\u{1F600} first", "lone \uD800 surrogate", "") },
);

test("an EVENTS segment decodes to its columns, for any text, fields, times and truncation marks, past the first scratch buffer", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ message: text, fields: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), text, { maxKeys: 3 }), { nil: undefined }), timeMs: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }), truncated: fc.boolean() }), { maxLength: 60 }),
      fc.integer({ min: 0, max: 2000 }),
      (events, repeat) => {
        // Repeating the first event makes some segments far larger than the scratch buffer's first 64 KiB.
        const all = events.length === 0 ? events : [...events, ...Array.from({ length: repeat }, () => events[0] as (typeof events)[number])];
        const columns: WireEventColumns = { offsets: all.map((_, index) => index * 10), messages: all.map((event) => event.message), timesMs: all.map((event) => event.timeMs), fields: all.map((event) => event.fields) };
        const truncated = all.flatMap((event, index) => (event.truncated ? [index] : []));
        const payload = encodePayload(HEADER, [eventsSegment(0, 5, columns, truncated)]);
        assert.equal(validatePayload(payload).events, all.length);
        const decoded = [...payloadEvents(payload)];
        assert.deepEqual(
          decoded.map((event) => [event.offset, event.message, event.fields, event.truncated === true]),
          all.map((event, index) => [index * 10, Buffer.from(event.message, "utf8").toString("utf8"), event.fields === undefined ? {} : JSON.parse(JSON.stringify(event.fields)), event.truncated]),
        );
      },
    ),
    { numRuns: 60 },
  );
});

test("messages given as verbatim bytes or as ASCII strings encode to the same segment as the strings", () => {
  fc.assert(
    fc.property(fc.array(fc.record({ message: fc.string({ unit: "grapheme-ascii", maxLength: 120 }), given: fc.constantFrom("verbatim", "ascii", "string") }), { maxLength: 50 }), (events) => {
      const source = Buffer.from(`junk${events.map((event) => event.message).join("")}`, "latin1");
      const starts: number[] = [];
      const ends: number[] = [];
      let position = 4;
      for (const event of events) {
        starts.push(position);
        ends.push(position + event.message.length);
        position += event.message.length;
      }
      const lines = events.map((event, index) => (event.given === "verbatim" ? index : event.given === "ascii" ? ASCII_MESSAGE : -1));
      const columns: WireEventColumns = { offsets: events.map((_, index) => index), messages: events.map((event) => event.message), timesMs: events.map(() => undefined), fields: events.map(() => undefined) };
      const plain = eventsSegment(0, 5, columns);
      const copied = eventsSegment(0, 5, { ...columns, verbatim: { buffer: source, starts, ends, lines } });
      assert.deepEqual(Buffer.concat(copied.parts), Buffer.concat(plain.parts));
    }),
    { numRuns: 100 },
  );
});

test("segments written into an arena, also while it grows, join to the payload of segments copied out; later batches write over the same buffer", () => {
  const columnsOf = (messages: readonly string[]): WireEventColumns => ({ offsets: messages.map((_, index) => index), messages, timesMs: messages.map(() => undefined), fields: messages.map((message) => (message.length % 3 === 0 ? { n: message.length } : undefined)) });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.array(text, { maxLength: 20 }), fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 6 }), (segments) => {
      // Some segments far larger than the arena's first buffer, so that it grows between and within segments.
      const batch = segments.map(([messages, repeat]) => columnsOf(messages.length === 0 ? messages : [...messages, ...Array.from({ length: repeat }, () => messages[0] as string)]));
      const expected = encodePayload(HEADER, batch.map((columns) => eventsSegment(0, 5, columns)));
      const arena = new SegmentArena();
      const buffers: Buffer[] = [];
      for (let pass = 0; pass < 3; pass++) {
        assert.ok(encodePayload(HEADER, batch.map((columns) => eventsSegment(0, 5, columns, [], arena))).equals(expected), `pass ${pass}: the same payload`);
        arena.reset();
        buffers.push(arena.buffer);
      }
      // It grows (at least doubling) while batches need more room, so the same batch soon fits without a new buffer.
      assert.ok(buffers[2] === buffers[1], "the third batch fits the buffer of the second");
    }),
    { numRuns: 40 },
  );
});
