/**
 * File identity helpers. A file is known by device+inode, confirmed by a
 * fingerprint of its first bytes (the "head", up to `tail.fingerprint_bytes`),
 * and by a marker: the bytes just before the saved offset (Fluent Bit's
 * offset_marker idea). Together they catch truncation, replacement and inode
 * reuse while the agent was stopped, and recognise a rotated copy
 * (copytruncate) as the file already being read.
 */
import { createHash } from "node:crypto";
import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/** Bytes of the marker kept before an offset. */
export const MARKER_BYTES_MAX = 32;

export function hashBytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64url");
}

/**
 * Read up to `length` bytes at `position`; fewer at the end of the file.
 *
 * A small read (heads, markers) is returned in a buffer of its own, exactly
 * as long as what was read: allocated the usual way it would be a slice of
 * Node's shared 8 KiB buffer pool, and a slice keeps the whole pool block
 * alive. Heads and markers live as long as their stream, so with many
 * quiet files each one's 16-byte marker kept a pool block (and the other
 * reads cut from it) resident, and a short file's head its whole 1 KiB
 * `fingerprint_bytes`.
 */
export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (length > Buffer.poolSize >>> 1) return buffer.subarray(0, filled);
  return ownCopy(buffer.subarray(0, filled));
}

/**
 * True when the file open as `fd` still begins with `head`. A synchronous
 * read, for the check the tailer makes after every read (tailer.ts
 * readOnce): a head (`fingerprint_bytes`, 1 KiB by default) usually comes
 * from the page cache, and a round trip through libuv's thread pool kept
 * the tailer waiting once per pass. On a file system that answers slowly
 * (NFS) it holds the event loop for that read.
 */
export function fileStartsWith(fd: number, head: Buffer): boolean {
  const found = Buffer.allocUnsafe(head.length);
  let filled = 0;
  while (filled < head.length) {
    const bytesRead = readSync(fd, found, filled, head.length - filled, filled);
    if (bytesRead === 0) return false;
    filled += bytesRead;
  }
  return found.equals(head);
}

/**
 * `bytes` copied into a buffer of its own, exactly as long: for small bytes
 * kept as long as a stream (heads, markers), which as a slice of Node's
 * shared buffer pool (Buffer.from, Buffer.concat, Buffer.allocUnsafe of a
 * few bytes) would keep a whole 8 KiB pool block alive.
 */
export function ownCopy(bytes: Uint8Array): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  own.set(bytes);
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
