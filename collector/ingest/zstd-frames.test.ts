import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { constants, zstdCompressSync } from "node:zlib";
import { checkZstdFrames } from "./zstd-frames.ts";

const INPUTS = [Buffer.from("hello"), Buffer.alloc(0), randomBytes(300_000), Buffer.alloc(3 << 20), Buffer.from("abc ".repeat(100_000))];
const PARAMS = [{}, { [constants.ZSTD_c_checksumFlag]: 1 }, { [constants.ZSTD_c_contentSizeFlag]: 0 }];

test("whole frames (one or several, with or without checksum and content size) pass", () => {
  for (const input of INPUTS) {
    for (const params of PARAMS) {
      const compressed = zstdCompressSync(input, { params });
      const declared = params === PARAMS[2] ? null : input.length;
      assert.deepEqual(checkZstdFrames(compressed), { ok: true, contentBytes: declared });
      assert.deepEqual(checkZstdFrames(Buffer.concat([compressed, compressed])), { ok: true, contentBytes: declared === null ? null : 2 * declared });
    }
  }
});

test("every cut of a frame is reported as truncated", () => {
  for (const input of INPUTS) {
    for (const params of PARAMS) {
      const compressed = zstdCompressSync(input, { params });
      for (let cut = 0; cut < compressed.length; cut += Math.max(1, Math.floor(compressed.length / 40))) {
        const check = checkZstdFrames(compressed.subarray(0, cut));
        assert.equal(check.ok, false, `cut at ${cut} of ${compressed.length}`);
        assert.equal(!check.ok && check.truncated, true);
      }
    }
  }
});

test("bytes that are not zstd are not truncated but wrong", () => {
  const check = checkZstdFrames(Buffer.from("GET / HTTP/1.1\r\n"));
  assert.equal(check.ok, false);
  assert.equal(!check.ok && check.truncated, false);
  const skippable = Buffer.alloc(12);
  skippable.writeUInt32LE(0x184d2a50, 0);
  skippable.writeUInt32LE(4, 4);
  assert.deepEqual(checkZstdFrames(Buffer.concat([skippable, zstdCompressSync(Buffer.from("x"))])), { ok: true, contentBytes: 1 });
});
