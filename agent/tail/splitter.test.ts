import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineSplitter, type LineRun } from "./splitter.ts";
import { MultilineJoiner, type JoinedEvent } from "./multiline.ts";

interface Line {
  offset: number;
  endOffset: number;
  text: string;
  truncated: boolean;
}

/** Split `content` fed in pieces cut at `cuts`; returns every line (and the flushed tail). */
function splitInPieces(content: Buffer, cuts: number[], lineBytesMax: number): Line[] {
  const splitter = new LineSplitter({ lineBytesMax, startOffset: 0 });
  const lines: Line[] = [];
  const collect = (run: LineRun): void => {
    run.starts.forEach((start, index) => {
      const next = index + 1 < run.starts.length ? run.bufferOffset + (run.starts[index + 1] as number) : run.consumedOffset;
      lines.push({
        offset: run.bufferOffset + start,
        endOffset: next,
        text: run.buffer.toString("utf8", start, run.ends[index] as number),
        truncated: run.truncated.includes(index),
      });
    });
  };
  const points = [...new Set(cuts.map((cut) => cut % (content.length + 1)))].sort((a, b) => a - b);
  let position = 0;
  for (const point of [...points, content.length]) {
    if (point <= position) continue;
    collect(splitter.push(content.subarray(position, point), position));
    position = point;
  }
  const tail = splitter.flush();
  if (tail !== null) collect(tail);
  // Every byte is accounted for: emitted in a line or skipped as a cut line's rest.
  assert.equal(splitter.pendingOffset, content.length);
  return lines;
}

/** The obvious model: split on "\n", strip "\r", cut long lines. */
function modelLines(content: Buffer, lineBytesMax: number): { offset: number; bytes: number; truncated: boolean }[] {
  const lines: { offset: number; bytes: number; truncated: boolean }[] = [];
  let start = 0;
  while (start < content.length) {
    let end = content.indexOf(0x0a, start);
    const last = end === -1;
    if (last) end = content.length;
    let contentEnd = end;
    if (contentEnd > start && content[contentEnd - 1] === 0x0d && !last) contentEnd--;
    if (last && contentEnd > start && content[contentEnd - 1] === 0x0d) contentEnd--;
    const truncated = end - start > lineBytesMax;
    lines.push({ offset: start, bytes: truncated ? -1 : contentEnd - start, truncated });
    start = end + 1;
  }
  return lines;
}

const lineArbitrary = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", "\r", "a\r", "x".repeat(70), "é".repeat(40), "\u{1F600}".repeat(20)),
);
const contentArbitrary = fc
  .tuple(fc.array(lineArbitrary, { maxLength: 30 }), fc.boolean(), fc.uint8Array({ maxLength: 8 }))
  .map(([lines, trailingNewline, garbage]) => {
    const text = lines.map((line) => line.replaceAll("\n", " ")).join("\n") + (trailingNewline ? "\n" : "");
    return Buffer.concat([Buffer.from(text), Buffer.from(garbage.filter((byte) => byte !== 0x0a))]);
  });

test("splitter: the same lines whatever the read boundaries", () => {
  fc.assert(
    fc.property(contentArbitrary, fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 8, max: 64 }), (content, cuts, lineBytesMax) => {
      const whole = splitInPieces(content, [], lineBytesMax);
      const pieces = splitInPieces(content, cuts, lineBytesMax);
      // A cut line's end is wherever its skipped rest was last read; the lines themselves must agree.
      const withoutEnds = (lines: Line[]) => lines.map(({ offset, text, truncated }) => ({ offset, text, truncated }));
      assert.deepEqual(withoutEnds(pieces), withoutEnds(whole));
      const model = modelLines(content, lineBytesMax);
      assert.deepEqual(
        whole.map((line) => line.offset),
        model.map((line) => line.offset),
      );
      whole.forEach((line, index) => {
        const expected = model[index] as { bytes: number; truncated: boolean };
        assert.equal(line.truncated, expected.truncated);
        if (!expected.truncated) assert.equal(line.text, content.toString("utf8", line.offset, line.offset + expected.bytes));
        else assert.ok(content.toString("utf8", line.offset, line.offset + lineBytesMax).startsWith(line.text.replace(/\uFFFD+$/, "")));
      });
    }),
    { numRuns: 400 },
  );
});

test("splitter: a truncated line is cut at a UTF-8 boundary and never exceeds the limit", () => {
  const content = Buffer.from(`${"é".repeat(100)}\nnext\n`);
  const lines = splitInPieces(content, [7, 13, 50], 33);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.truncated, true);
  assert.equal(lines[0]?.text, "é".repeat(16));
  assert.equal(lines[1]?.text, "next");
  assert.equal(lines[1]?.offset, 201);
});

function joinInPieces(content: Buffer, cuts: number[], pattern: { start?: string; continue?: string; negate: boolean }, linesMax: number): JoinedEvent[] {
  const joiner = new MultilineJoiner({ ...pattern, linesMax, bytesMax: 1 << 20, timeoutMs: 1000 });
  const events: JoinedEvent[] = [];
  for (const line of splitInPieces(content, cuts, 1 << 20)) {
    joiner.push(line.text, line.offset, line.endOffset, line.truncated, 0, (event) => events.push(event));
  }
  joiner.flush(0, true, (event) => events.push(event));
  return events;
}

const traceArbitrary = fc
  .array(
    fc.oneof(
      fc.constantFrom("2026-01-01 ERROR boom", "2026-01-02 INFO ok"),
      fc.constantFrom("\tat com.example.Foo.bar(Foo.java:10)", "Caused by: java.io.IOException", "  File \"x.py\", line 3"),
      fc.string({ maxLength: 12 }).map((text) => text.replaceAll("\n", "")),
    ),
    { maxLength: 25 },
  )
  .map((lines) => Buffer.from(lines.join("\n") + "\n"));

test("multiline joiner: the same events whatever the read boundaries", () => {
  fc.assert(
    fc.property(traceArbitrary, fc.array(fc.nat(), { maxLength: 15 }), fc.integer({ min: 1, max: 6 }), (content, cuts, linesMax) => {
      for (const pattern of [{ start: "^\\d{4}-", negate: false }, { continue: "^(\\s|Caused by:)", negate: false }, { start: "^\\s", negate: true }]) {
        const whole = joinInPieces(content, [], pattern, linesMax);
        assert.deepEqual(joinInPieces(content, cuts, pattern, linesMax), whole);
        // Nothing lost: the events' lines are exactly the file's lines, in order.
        const lines = content.toString().split("\n").slice(0, -1);
        assert.deepEqual(whole.flatMap((event) => event.message.split("\n")), lines);
        for (const event of whole) assert.ok(event.message.split("\n").length <= linesMax);
      }
    }),
    { numRuns: 300 },
  );
});
