import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { BatchCompressor, zstdParams } from "./compressor.ts";

/** Frame_Header_Descriptor's Frame_Content_Size_Flag / Single_Segment_Flag (RFC 8878, 3.1.1.1.1). */
function declaresContentSize(frame: Buffer): boolean {
  const descriptor = frame[4] as number;
  return descriptor >> 6 !== 0 || (descriptor & 0x20) !== 0;
}

function payload(bytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let index = 0; length < bytes; index++) {
    const line = `seed=${seed} line=${index} status=${(index * 7919) % 600} ${randomBytes(8).toString("hex")}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}

test("each payload becomes one zstd frame that decompresses to it and declares its size, as zstdCompress makes", async () => {
  const compressor = new BatchCompressor({ level: 1, strategy: "auto", contexts: 2 });
  const inputs = [payload(1 << 20, 1), payload(10, 2), payload(300_000, 3), Buffer.alloc(0), payload(1_500_000, 4), randomBytes(200_000)];
  for (const input of inputs) {
    const frame = await compressor.compress(input);
    assert.ok(zstdDecompressSync(frame).equals(input), `round trip of ${input.length} bytes`);
    assert.ok(declaresContentSize(frame), `a ${input.length}-byte frame declares its content size`);
    assert.equal(declaresContentSize(zstdCompressSync(input)), true);
  }
  compressor.close();
});

test("concurrent compressions share at most `contexts` contexts and never mix their output", async () => {
  const compressor = new BatchCompressor({ level: 1, strategy: "auto", contexts: 2 });
  const inputs = Array.from({ length: 24 }, (_, index) => payload(50_000 + ((index * 104_729) % 700_000), index));
  const frames = await Promise.all(inputs.map((input) => compressor.compress(input)));
  frames.forEach((frame, index) => assert.ok(zstdDecompressSync(frame).equals(inputs[index] as Buffer), `payload ${index}`));
  // Reused afterwards, too.
  const again = payload(123_456, 99);
  assert.ok(zstdDecompressSync(await compressor.compress(again)).equals(again));
  compressor.close();
});

test("a payload given to compress may be reused once compress resolves", async () => {
  const compressor = new BatchCompressor({ level: 3, strategy: "auto", contexts: 1 });
  const buffer = payload(400_000, 7);
  const expected = Buffer.from(buffer);
  const frame = await compressor.compress(buffer);
  buffer.fill(0);
  assert.ok(zstdDecompressSync(frame).equals(expected));
  compressor.close();
});

test("a named strategy is applied over the level's own: the frame is zstd's for level + strategy, not the level's alone", async () => {
  const input = payload(1 << 20, 11);
  const byLevel = new BatchCompressor({ level: 1, strategy: "auto", contexts: 1 });
  const greedy = new BatchCompressor({ level: 1, strategy: "greedy", contexts: 1 });
  const plain = await byLevel.compress(input);
  const tuned = await greedy.compress(input);
  assert.ok(zstdDecompressSync(tuned).equals(input));
  assert.ok(plain.equals(zstdCompressSync(input, { params: zstdParams({ level: 1, strategy: "auto" }) })), "auto is the level alone");
  assert.ok(tuned.equals(zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: 1, [constants.ZSTD_c_strategy]: constants.ZSTD_greedy } })));
  assert.ok(!tuned.equals(plain), "greedy and level 1's own strategy (fast) find different matches");
  byLevel.close();
  greedy.close();
});

test("the stream's full output buffers are freed as each frame is copied out, not left to the garbage collector", async () => {
  // Incompressible payloads: every frame spans several of the stream's 128 KiB output buffers.
  const compressor = new BatchCompressor({ level: 1, strategy: "auto", contexts: 1 });
  const inputs = Array.from({ length: 20 }, () => randomBytes(400_000));
  const before = process.memoryUsage().arrayBuffers;
  const frames: Buffer[] = [];
  for (const input of inputs) frames.push(await compressor.compress(input));
  const grownBytes = process.memoryUsage().arrayBuffers - before;
  const framesBytes = frames.reduce((sum, frame) => sum + frame.length, 0);
  // Kept: the frames (held here), the inputs, the one buffer the stream writes into now.
  // Without the freeing, the full buffers (about as many bytes again as the frames) would still count.
  assert.ok(grownBytes < framesBytes + 2 * 128 * 1024, `array buffers grew by ${grownBytes} bytes for ${framesBytes} bytes of frames`);
  frames.forEach((frame, index) => assert.ok(zstdDecompressSync(frame).equals(inputs[index] as Buffer), `payload ${index}`));
  compressor.close();
});
