import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EventDecoder } from "./decode.ts";
import type { LineRun } from "./splitter.ts";
import type { LineParser } from "../parsers/types.ts";

/** The lines of `text` as the splitter hands them over ("\r\n" or "\n" endings, the "\r" not in the line). */
function lineRun(text: Buffer): LineRun {
  const starts: number[] = [];
  const ends: number[] = [];
  let start = 0;
  for (let newline = text.indexOf(10); newline !== -1; newline = text.indexOf(10, start)) {
    starts.push(start);
    ends.push(newline > start && text[newline - 1] === 13 ? newline - 1 : newline);
    start = newline + 1;
  }
  return { buffer: text, bufferOffset: 1000, starts, ends, truncated: [], consumedOffset: 1000 + start };
}

const line = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom("é", "ascii then é", "\u{1F600}") },
  // Longer than a decode window (32 KiB): decoded on its own.
  { weight: 1, arbitrary: fc.integer({ min: 30_000, max: 70_000 }).map((length) => "x".repeat(length)) },
);

test("decoding lines a window at a time gives each line's own UTF-8 text and offset, across window edges, long lines and non-ASCII", () => {
  fc.assert(
    fc.property(fc.array(line.map((text) => text.replace(/[\r\n]/g, " ")), { maxLength: 400 }), fc.boolean(), (lines, crlf) => {
      const text = Buffer.from(lines.map((each) => `${each}${crlf ? "\r\n" : "\n"}`).join(""), "utf8");
      const run = lineRun(text);
      const decoded = new EventDecoder(null, null, true).decode(run, 0);
      assert.equal(decoded.count, lines.length);
      assert.deepEqual(decoded.decoded?.messages, lines);
      assert.deepEqual(decoded.decoded?.offsets, run.starts.map((start) => 1000 + start));
      // Where a message is given as verbatim bytes, they are its UTF-8 bytes exactly.
      const verbatim = decoded.decoded?.verbatim;
      assert.ok(verbatim !== undefined);
      verbatim.lines.forEach((line, index) => {
        if (line >= 0) assert.equal(verbatim.buffer.toString("utf8", verbatim.starts[line], verbatim.ends[line]), lines[index]);
      });
    }),
    { numRuns: 80 },
  );
});

test("verbatim bytes: ASCII lines only, and not a line whose message a parser replaced", () => {
  const text = Buffer.from("plain ascii\nwith é\n{\"msg\":\"inner\"}\nascii again\n", "utf8");
  const run = lineRun(text);
  const plain = new EventDecoder(null, null, true).decode(run, 0).decoded;
  // The window holding "é" is decoded as UTF-8: none of its lines is verbatim.
  assert.deepEqual(plain?.verbatim?.lines, [-1, -1, -1, -1]);
  const asciiRun = lineRun(Buffer.from("one\n{\"msg\":\"inner\"}\ntwo\n"));
  const parser: LineParser = { type: "json", parse: (line) => (line.startsWith("{") ? { ok: true, fields: {}, message: "inner" } : { ok: true, fields: {} }) };
  const parsed = new EventDecoder(parser, null, true).decode(asciiRun, 0).decoded;
  assert.deepEqual(parsed?.messages, ["one", "inner", "two"]);
  assert.deepEqual(parsed?.verbatim?.lines, [0, -1, 2]);
});
