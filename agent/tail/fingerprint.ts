/**
 * File identity helpers. A file is known by device+inode, confirmed by a
 * fingerprint of its first bytes (the "head", up to `tail.fingerprint_bytes`),
 * and by a marker: the bytes just before the saved offset (Fluent Bit's
 * offset_marker idea). Together they catch truncation, replacement and inode
 * reuse while the agent was stopped, and recognise a rotated copy
 * (copytruncate) as the file already being read.
 */
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";

/** Bytes of the marker kept before an offset. */
export const MARKER_BYTES_MAX = 32;

export function hashBytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64url");
}

/**
 * Read up to `length` bytes at `position`; fewer at the end of the file.
 *
 * A short read of a small length is copied into a buffer of its own size:
 * such a read is a slice of Node's shared 8 KiB buffer pool, and a slice
 * keeps its whole `length` (and the pool block) alive. Heads and markers
 * live as long as their stream, so a short file's head (a 30-byte first
 * line read with the 1 KiB `fingerprint_bytes`) would hold a kilobyte, per
 * idle file.
 */
export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled === length || length > Buffer.poolSize >>> 1) return buffer.subarray(0, filled);
  const own = Buffer.allocUnsafeSlow(filled);
  buffer.copy(own, 0, 0, filled);
  return own;
}

/** The bytes a stream key is made from: the first line (with its newline), at most `bytesMax`. */
export function keyHead(head: Buffer, bytesMax: number): Buffer {
  const newline = head.indexOf(0x0a);
  const end = newline === -1 ? Math.min(head.length, bytesMax) : Math.min(newline + 1, bytesMax);
  return head.subarray(0, end);
}

/** True when `a` and `b` agree on their common prefix, which is not empty. */
export function samePrefix(a: Buffer, b: Buffer): boolean {
  const length = Math.min(a.length, b.length);
  return length > 0 && a.compare(b, 0, length, 0, length) === 0;
}
