/**
 * max_line_bytes counts a line's content, not its line end: a line of exactly
 * max_line_bytes bytes ended by "\r\n" is whole, whatever the read boundaries
 * (the "\r" may come at the end of one read and the "\n" in the next).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LineSplitter } from "./splitter.ts";

const MAX = 64;

interface Line {
  offset: number;
  text: string;
  truncated: boolean;
}

/** Split `bytes` read in two chunks cut at `cut`, then flush. */
function split(bytes: Buffer, cut: number): Line[] {
  const splitter = new LineSplitter({ lineBytesMax: MAX, startOffset: 0 });
  const lines: Line[] = [];
  const collect = (run: ReturnType<LineSplitter["push"]> | null): void => {
    if (run === null) return;
    const truncated = new Set(run.truncated);
    run.starts.forEach((start, index) => {
      lines.push({ offset: run.bufferOffset + start, text: run.buffer.toString("utf8", start, run.ends[index]), truncated: truncated.has(index) });
    });
  };
  collect(splitter.push(bytes.subarray(0, cut), 0));
  collect(splitter.push(bytes.subarray(cut), cut));
  collect(splitter.flush());
  return lines;
}

const exact = "x".repeat(MAX);

test("a line of exactly max_line_bytes ended by CRLF is not truncated, at any read boundary", () => {
  const bytes = Buffer.from(`${exact}\r\n${exact}\r\nnext\r\n`);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(
      split(bytes, cut),
      [
        { offset: 0, text: exact, truncated: false },
        { offset: MAX + 2, text: exact, truncated: false },
        { offset: 2 * (MAX + 2), text: "next", truncated: false },
      ],
      `cut at ${cut}`,
    );
  }
});

test("one byte more than max_line_bytes before CRLF is cut, at any read boundary", () => {
  const bytes = Buffer.from(`${exact}y\r\nnext\r\n`);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(
      split(bytes, cut),
      [
        { offset: 0, text: exact, truncated: true },
        { offset: MAX + 3, text: "next", truncated: false },
      ],
      `cut at ${cut}`,
    );
  }
});

test("a carriage return that is not followed by a newline is content and counts", () => {
  const bytes = Buffer.from(`${exact}\rz\nnext\n`);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(
      split(bytes, cut),
      [
        { offset: 0, text: exact, truncated: true },
        { offset: MAX + 3, text: "next", truncated: false },
      ],
      `cut at ${cut}`,
    );
  }
});

test("a partial last line of max_line_bytes plus a final CR is whole when flushed", () => {
  const bytes = Buffer.from(`${exact}\r`);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(split(bytes, cut), [{ offset: 0, text: exact, truncated: false }], `cut at ${cut}`);
  }
});
