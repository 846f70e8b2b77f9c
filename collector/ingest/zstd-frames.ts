/**
 * Checks that a body is made of whole zstd frames (RFC 8878, section 3.1)
 * by walking frame and block headers, without decompressing. node:zlib's
 * one-shot zstd decompression returns what it could decode from a
 * truncated frame without an error, so a cut-off body is caught here and
 * answered "truncated" rather than as a damaged batch.
 *
 * It also sums the frames' declared content sizes, when every frame
 * declares one: the decompressor then gets one output buffer of the right
 * size (0.8 ms per MiB instead of 1.4 ms with 1 MiB pieces), and a batch
 * that declares more than the limit is refused before decompressing. A
 * declared size is only a hint: decompression is bounded on its own.
 *
 * Cost: a few bytes read per 128 KiB block.
 */
const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_RAW = 0;
const BLOCK_RLE = 1;
const BLOCK_COMPRESSED = 2;
const DICTIONARY_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8];

export type FrameCheck =
  /** `contentBytes`: the declared decompressed size, or null when a frame does not declare it. */
  | { ok: true; contentBytes: number | null }
  | { ok: false; truncated: boolean; reason: string };

interface FrameSpan {
  end: number;
  /** Declared content size; null when not declared. */
  contentBytes: number | null;
}

export function checkZstdFrames(body: Buffer): FrameCheck {
  if (body.length === 0) return { ok: false, truncated: true, reason: "empty body" };
  let position = 0;
  let contentBytes: number | null = 0;
  while (position < body.length) {
    const frame = frameSpan(body, position);
    if ("ok" in frame) return frame;
    position = frame.end;
    contentBytes = contentBytes === null || frame.contentBytes === null ? null : contentBytes + frame.contentBytes;
  }
  return { ok: true, contentBytes };
}

/** The frame starting at `start`, or why there is no whole frame there. */
function frameSpan(body: Buffer, start: number): FrameSpan | FrameCheck {
  const truncated = (what: string): FrameCheck => ({ ok: false, truncated: true, reason: `zstd stream is truncated (${what})` });
  if (start + 4 > body.length) return truncated("frame magic");
  const magic = body.readUInt32LE(start);
  if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    if (start + 8 > body.length) return truncated("skippable frame size");
    const end = start + 8 + body.readUInt32LE(start + 4);
    return end <= body.length ? { end, contentBytes: 0 } : truncated("skippable frame");
  }
  if (magic !== ZSTD_MAGIC) return { ok: false, truncated: false, reason: `not zstd data (bad frame magic at byte ${start})` };
  if (start + 5 > body.length) return truncated("frame header");
  const descriptor = body.readUInt8(start + 4);
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  if ((descriptor & 0x08) !== 0) return { ok: false, truncated: false, reason: "zstd frame header has the reserved bit set" };
  const contentSizeFlag = descriptor >> 6;
  const contentSizeBytes = contentSizeFlag === 0 && singleSegment ? 1 : (CONTENT_SIZE_BYTES[contentSizeFlag] as number);
  const contentSizeStart = start + 5 + (singleSegment ? 0 : 1) + (DICTIONARY_ID_BYTES[descriptor & 0x03] as number);
  let position = contentSizeStart + contentSizeBytes;
  if (position > body.length) return truncated("frame header");
  const contentBytes = readContentSize(body, contentSizeStart, contentSizeBytes);
  for (;;) {
    if (position + 3 > body.length) return truncated("block header");
    const blockHeader = body.readUIntLE(position, 3);
    const last = (blockHeader & 1) !== 0;
    const type = (blockHeader >> 1) & 3;
    const size = blockHeader >> 3;
    position += 3;
    if (type === BLOCK_RLE) position += 1;
    else if (type === BLOCK_RAW || type === BLOCK_COMPRESSED) position += size;
    else return { ok: false, truncated: false, reason: "zstd block has the reserved type" };
    if (position > body.length) return truncated("block");
    if (last) break;
  }
  if (hasChecksum) position += 4;
  return position <= body.length ? { end: position, contentBytes } : truncated("checksum");
}

/** Frame_Content_Size (RFC 8878, 3.1.1.1.4): the 2-byte form is offset by 256; 0 bytes means not declared. */
function readContentSize(body: Buffer, start: number, bytes: number): number | null {
  if (bytes === 0) return null;
  if (bytes === 1) return body.readUInt8(start);
  if (bytes === 2) return body.readUInt16LE(start) + 256;
  if (bytes === 4) return body.readUInt32LE(start);
  const size = body.readUInt32LE(start) + body.readUInt32LE(start + 4) * 2 ** 32;
  return Number.isSafeInteger(size) ? size : Number.MAX_SAFE_INTEGER;
}
