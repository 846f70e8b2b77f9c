import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EventDecoder } from "./decode.ts";
import type { LineRun } from "./splitter.ts";

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
    }),
    { numRuns: 80 },
  );
});
