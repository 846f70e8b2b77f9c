/**
 * Embedded log, on-disk format v1 (docs/LOG.md). All integers little-endian.
 *
 *   data_dir/log/<tenant>/<base offset, 20 digits>.seg
 *
 * Segment = header (32 bytes) + records.
 *
 *   0  4  "LSEG"
 *   4  4  u32 format version (1)
 *   8  8  f64 base offset (events stored in the tenant's log before this segment)
 *  16  8  f64 created, ms since the epoch
 *  24  4  u32 reserved (0)
 *  28  4  u32 CRC-32 (zlib) of bytes 0..28
 *
 * Record = fixed header (68 bytes) + agent id + batch.
 *
 *   0  4  "LSR1"   record magic, format version 1
 *   4  4  u32 record length, header included
 *   8  4  u32 CRC-32 (zlib) of every byte after this field (12..length)
 *  12  1  u8  codec: 1 = wire v1 batch compressed with zstd (the HTTP body as received)
 *  13  1  u8  flags (0; reserved)
 *  14  2  u16 agent id length in bytes (1..256)
 *  16  8  f64 base offset: events stored in the tenant's log before this record
 *  24  8  f64 append time, ms since the epoch
 *  32  8  f64 observed min, ms (earliest observed time of the batch's segments)
 *  40  8  f64 observed max, ms
 *  48  8  f64 batch sequence number (from the wire header)
 *  56  8  f64 floor (from the wire header)
 *  64  4  u32 event count
 *  68  n  agent id, UTF-8
 *  68+n   the batch bytes, never re-encoded
 *
 * Offsets count events (Kafka style): record i's base offset is record
 * i-1's base offset plus its event count; a segment's name is the base
 * offset of its first record.
 */
import { crc32 } from "node:zlib";
import { assert } from "../../shared/errors.ts";

export const LOG_FORMAT_VERSION = 1;
export const SEGMENT_MAGIC = Buffer.from("LSEG", "latin1");
export const SEGMENT_HEADER_BYTES = 32;
export const SEGMENT_SUFFIX = ".seg";
const SEGMENT_NAME_DIGITS = 20;

export const RECORD_MAGIC = Buffer.from("LSR1", "latin1");
export const RECORD_FIXED_BYTES = 68;
export const RECORD_CRC_START = 12;
export const CODEC_ZSTD_WIRE_V1 = 1;
export const AGENT_ID_BYTES_MAX = 256;
/** Largest record a reader accepts; a larger length field is corruption. Ingest bodies are at most 1 GiB. */
export const RECORD_BYTES_MAX = 1024 ** 3 + RECORD_FIXED_BYTES + AGENT_ID_BYTES_MAX;

export interface RecordFields {
  baseOffset: number;
  events: number;
  appendedMs: number;
  observedMinMs: number;
  observedMaxMs: number;
  agent: string;
  seq: number;
  floor: number;
}

/** What a record says about its batch (everything but the batch bytes). */
export interface RecordHeader extends RecordFields {
  length: number;
  codec: number;
}

/** The record's header bytes, CRC included (which covers `batch` too); write header then batch. */
export function encodeRecordHeader(fields: RecordFields, batch: Buffer): Buffer {
  const agent = Buffer.from(fields.agent, "utf8");
  assert(agent.length >= 1 && agent.length <= AGENT_ID_BYTES_MAX, "agent id length is checked by ingest");
  assert(Number.isSafeInteger(fields.baseOffset) && fields.baseOffset >= 0, "base offset is a whole number");
  assert(Number.isInteger(fields.events) && fields.events >= 0 && fields.events <= 0xffffffff, "event count fits in u32");
  const length = RECORD_FIXED_BYTES + agent.length + batch.length;
  assert(length <= RECORD_BYTES_MAX, "record size is bounded by ingest.max_body_bytes");
  const head = Buffer.allocUnsafe(RECORD_FIXED_BYTES + agent.length);
  RECORD_MAGIC.copy(head, 0);
  head.writeUInt32LE(length, 4);
  head.writeUInt8(CODEC_ZSTD_WIRE_V1, 12);
  head.writeUInt8(0, 13);
  head.writeUInt16LE(agent.length, 14);
  head.writeDoubleLE(fields.baseOffset, 16);
  head.writeDoubleLE(fields.appendedMs, 24);
  head.writeDoubleLE(fields.observedMinMs, 32);
  head.writeDoubleLE(fields.observedMaxMs, 40);
  head.writeDoubleLE(fields.seq, 48);
  head.writeDoubleLE(fields.floor, 56);
  head.writeUInt32LE(fields.events, 64);
  agent.copy(head, RECORD_FIXED_BYTES);
  head.writeUInt32LE(crc32(batch, crc32(head.subarray(RECORD_CRC_START))), 8);
  return head;
}

/**
 * Checks the fixed part of a record header (`bytes` holds at least
 * RECORD_FIXED_BYTES from the record's start) and returns the whole header
 * length (fixed + agent id), or the reason it cannot be a record.
 */
export function checkFixedHeader(bytes: Buffer): { headerBytes: number; length: number } | string {
  if (!bytes.subarray(0, 4).equals(RECORD_MAGIC)) return "bad record magic";
  const length = bytes.readUInt32LE(4);
  const agentBytes = bytes.readUInt16LE(14);
  if (bytes.readUInt8(12) !== CODEC_ZSTD_WIRE_V1) return `unknown codec ${bytes.readUInt8(12)}`;
  if (agentBytes < 1 || agentBytes > AGENT_ID_BYTES_MAX) return `agent id length ${agentBytes} out of range`;
  if (length < RECORD_FIXED_BYTES + agentBytes || length > RECORD_BYTES_MAX) return `record length ${length} out of range`;
  return { headerBytes: RECORD_FIXED_BYTES + agentBytes, length };
}

/** Decodes a header whose fixed part passed `checkFixedHeader`; `bytes` holds at least the whole header. */
export function decodeRecordHeader(bytes: Buffer): RecordHeader {
  const agentBytes = bytes.readUInt16LE(14);
  return {
    length: bytes.readUInt32LE(4),
    codec: bytes.readUInt8(12),
    baseOffset: bytes.readDoubleLE(16),
    appendedMs: bytes.readDoubleLE(24),
    observedMinMs: bytes.readDoubleLE(32),
    observedMaxMs: bytes.readDoubleLE(40),
    seq: bytes.readDoubleLE(48),
    floor: bytes.readDoubleLE(56),
    events: bytes.readUInt32LE(64),
    agent: bytes.toString("utf8", RECORD_FIXED_BYTES, RECORD_FIXED_BYTES + agentBytes),
  };
}

/** The batch bytes of a whole record. */
export function recordBatch(record: Buffer): Buffer {
  return record.subarray(RECORD_FIXED_BYTES + record.readUInt16LE(14));
}

/** True when a whole record's stored CRC matches its bytes. */
export function recordCrcMatches(record: Buffer): boolean {
  return crc32(record.subarray(RECORD_CRC_START)) === record.readUInt32LE(8);
}

export function encodeSegmentHeader(baseOffset: number, createdMs: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32LE(LOG_FORMAT_VERSION, 4);
  header.writeDoubleLE(baseOffset, 8);
  header.writeDoubleLE(createdMs, 16);
  header.writeUInt32LE(crc32(header.subarray(0, 28)), 28);
  return header;
}

export interface SegmentHeader {
  baseOffset: number;
  createdMs: number;
}

/** Decodes a segment header, or returns why it is not one. */
export function decodeSegmentHeader(bytes: Buffer): SegmentHeader | string {
  if (bytes.length < SEGMENT_HEADER_BYTES) return "segment header is incomplete";
  if (!bytes.subarray(0, 4).equals(SEGMENT_MAGIC)) return "bad segment magic";
  if (crc32(bytes.subarray(0, 28)) !== bytes.readUInt32LE(28)) return "segment header CRC mismatch";
  const version = bytes.readUInt32LE(4);
  if (version !== LOG_FORMAT_VERSION) return `unsupported segment format version ${version}`;
  return { baseOffset: bytes.readDoubleLE(8), createdMs: bytes.readDoubleLE(16) };
}

export function segmentFileName(baseOffset: number): string {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, "segment base offset is a whole number");
  return String(baseOffset).padStart(SEGMENT_NAME_DIGITS, "0") + SEGMENT_SUFFIX;
}

/** The base offset a segment file name stands for, or undefined for other files. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{20})\.seg$/.exec(name);
  if (match === null) return undefined;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? baseOffset : undefined;
}

const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/** Tenant names become directory names: config identifiers, but never "." or "..". */
export function isValidTenant(tenant: string): boolean {
  return TENANT_PATTERN.test(tenant) && tenant !== "." && tenant !== "..";
}
