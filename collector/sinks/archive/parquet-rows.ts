/**
 * A Parquet row group on its way from the sink (main thread) to the
 * encoder thread (parquet-encoder.ts): the events' columns packed into a
 * few typed arrays and byte buffers that postMessage transfers without a
 * copy, instead of arrays of strings and objects that it would clone one
 * by one. Packing costs the main thread little (one UTF-8 encoding per
 * text value, into its column's buffer); the encoder thread unpacks into what
 * hyparquet-writer takes (`columnSources`).
 *
 *   time, observed_time, offset    Float64Array (ms, bytes)
 *   host, source, path, tenant     distinct strings + Uint32Array index per row
 *                                  (usually few distinct ones per row group)
 *   message, id                    UTF-8 bytes of the values back to back + Uint32Array byte length per row
 *   fields                         JSON array text of the non-empty fields objects
 *                                  + Uint32Array per row: 0 empty, else 1 + its place in that array
 *   truncated                      Uint8Array 0/1
 */
import type { ColumnSource } from "hyparquet-writer";
import type { SinkEvent } from "../types.ts";

export interface PackedStrings {
  bytes: Uint8Array;
  lengths: Uint32Array;
}

export interface PackedDictionary {
  values: string[];
  indexes: Uint32Array;
}

export interface PackedRowGroup {
  rows: number;
  time: Float64Array;
  observedTime: Float64Array;
  offset: Float64Array;
  host: PackedDictionary;
  source: PackedDictionary;
  path: PackedDictionary;
  tenant: PackedDictionary;
  message: PackedStrings;
  id: PackedStrings;
  fieldsJson: string;
  fieldsIndexes: Uint32Array;
  truncated: Uint8Array;
}

/** Gathers events into columns; `take` packs them and starts anew. */
export class RowGroupBuilder {
  private times = new TimeParser();
  private observedTimes = new TimeParser();
  private time: number[] = [];
  private observedTime: number[] = [];
  private offset: number[] = [];
  private host = new DictionaryBuilder();
  private source = new DictionaryBuilder();
  private path = new DictionaryBuilder();
  private tenant = new DictionaryBuilder();
  private message = new StringColumn();
  private id = new StringColumn();
  private fieldsJson: string[] = [];
  private fieldsIndexes: number[] = [];
  private truncated: number[] = [];

  get rows(): number {
    return this.truncated.length;
  }

  /** Adds the event; `fieldsJson` is its fields as JSON, or null when it has none. */
  append(event: SinkEvent, fieldsJson: string | null): void {
    this.time.push(this.times.parse(event.time));
    this.observedTime.push(this.observedTimes.parse(event.observed_time));
    this.offset.push(event.offset);
    this.host.append(event.host);
    this.source.append(event.source);
    this.path.append(event.path);
    this.tenant.append(event.tenant);
    this.message.push(event.message);
    this.id.push(event.id);
    if (fieldsJson === null) {
      this.fieldsIndexes.push(0);
    } else {
      this.fieldsJson.push(fieldsJson);
      this.fieldsIndexes.push(this.fieldsJson.length);
    }
    this.truncated.push(event.truncated === true ? 1 : 0);
  }

  /** The columns packed, with the buffers postMessage can transfer; the builder is empty afterwards. */
  take(): { packed: PackedRowGroup; transfer: ArrayBuffer[] } {
    const packed: PackedRowGroup = {
      rows: this.truncated.length,
      time: Float64Array.from(this.time),
      observedTime: Float64Array.from(this.observedTime),
      offset: Float64Array.from(this.offset),
      host: this.host.take(),
      source: this.source.take(),
      path: this.path.take(),
      tenant: this.tenant.take(),
      message: this.message.take(),
      id: this.id.take(),
      fieldsJson: `[${this.fieldsJson.join(",")}]`,
      fieldsIndexes: Uint32Array.from(this.fieldsIndexes),
      truncated: Uint8Array.from(this.truncated),
    };
    this.time = [];
    this.observedTime = [];
    this.offset = [];
    this.fieldsJson = [];
    this.fieldsIndexes = [];
    this.truncated = [];
    const { time, observedTime, offset, host, source, path, tenant, message, id, fieldsIndexes, truncated } = packed;
    const transfer = [time, observedTime, offset, host.indexes, source.indexes, path.indexes, tenant.indexes, message.bytes, message.lengths, id.bytes, id.lengths, fieldsIndexes, truncated].map((array) => array.buffer as ArrayBuffer);
    return { packed, transfer };
  }
}

/** Distinct values and an index per row; the last value is checked first, as a send's events mostly come from one stream. */
class DictionaryBuilder {
  private values: string[] = [];
  private indexOf = new Map<string, number>();
  private indexes: number[] = [];
  private last: string | undefined;
  private lastIndex = 0;

  append(value: string): void {
    if (value !== this.last) {
      let index = this.indexOf.get(value);
      if (index === undefined) {
        index = this.values.length;
        this.values.push(value);
        this.indexOf.set(value, index);
      }
      this.last = value;
      this.lastIndex = index;
    }
    this.indexes.push(this.lastIndex);
  }

  take(): PackedDictionary {
    const packed = { values: this.values, indexes: Uint32Array.from(this.indexes) };
    this.values = [];
    this.indexOf = new Map();
    this.indexes = [];
    this.last = undefined;
    return packed;
  }
}

/** RFC 3339 text to ms (0 when it does not parse), remembering the last one: a batch's events share their observed time, and often their time. */
class TimeParser {
  private lastText = "";
  private lastMs = 0;

  parse(text: string): number {
    if (text !== this.lastText) {
      const ms = Date.parse(text);
      this.lastText = text;
      this.lastMs = Number.isNaN(ms) ? 0 : ms;
    }
    return this.lastMs;
  }
}

/**
 * A text column's values, encoded at `take` straight into one buffer of
 * their own (so it can be transferred): no joined string in between. The
 * buffer starts at the values' UTF-16 length (their UTF-8 length when
 * ASCII) plus room for the longest value's worst case, so ASCII text never
 * makes it grow; other text grows it as needed.
 */
class StringColumn {
  private values: string[] = [];
  private chars = 0;
  private longestChars = 0;

  push(text: string): void {
    this.values.push(text);
    this.chars += text.length;
    if (text.length > this.longestChars) this.longestChars = text.length;
  }

  take(): PackedStrings {
    const values = this.values;
    let bytes: Buffer = Buffer.allocUnsafeSlow(this.chars + 2 * this.longestChars);
    const lengths = new Uint32Array(values.length);
    let at = 0;
    for (let index = 0; index < values.length; index++) {
      const text = values[index] as string;
      // Room for the worst case (3 bytes per UTF-16 unit) before writing: a write never cuts a value short.
      if (bytes.length - at < 3 * text.length) bytes = grown(bytes, at, at + 3 * text.length);
      const written = bytes.write(text, at, "utf8");
      lengths[index] = written;
      at += written;
    }
    this.values = [];
    this.chars = 0;
    this.longestChars = 0;
    return { bytes: new Uint8Array(bytes.buffer as ArrayBuffer, 0, at), lengths };
  }
}

/** A copy of `bytes`' first `used` bytes in a buffer of at least `needed` (twice the old size if more). */
function grown(bytes: Buffer, used: number, needed: number): Buffer {
  const larger = Buffer.allocUnsafeSlow(Math.max(needed, 2 * bytes.length));
  bytes.copy(larger, 0, 0, used);
  return larger;
}

/**
 * The events' empty fields objects as one object: hyparquet-writer
 * serialises a JSON column's values once per distinct object, so events
 * without fields (no parser, no static fields) cost one serialisation per
 * row group instead of one each.
 */
const EMPTY_FIELDS: Record<string, unknown> = Object.freeze({});

/** The packed row group as hyparquet-writer's column data (encoder thread), in PARQUET_SCHEMA's order; `options` adds each column's encoding and statistics. */
export function columnSources(packed: PackedRowGroup, options: Partial<Record<string, Partial<ColumnSource>>>): ColumnSource[] {
  const data: Record<string, ColumnSource["data"]> = {
    time: timestamps(packed.time),
    observed_time: timestamps(packed.observedTime),
    host: expand(packed.host),
    source: expand(packed.source),
    path: expand(packed.path),
    offset: bigints(packed.offset),
    message: views(packed.message),
    id: views(packed.id),
    tenant: expand(packed.tenant),
    fields: fieldsObjects(packed.fieldsJson, packed.fieldsIndexes),
    truncated: booleans(packed.truncated),
  };
  return Object.entries(data).map(([name, values]) => ({ name, data: values, ...options[name] }));
}

/** ms as bigints, one bigint per run of equal values (a batch's events share their times). */
function timestamps(ms: Float64Array): bigint[] {
  const out: bigint[] = new Array(ms.length);
  let last = Number.NaN;
  let lastBig = 0n;
  for (let index = 0; index < ms.length; index++) {
    const value = ms[index] as number;
    if (value !== last) {
      last = value;
      lastBig = BigInt(value);
    }
    out[index] = lastBig;
  }
  return out;
}

function expand(dictionary: PackedDictionary): string[] {
  const { values, indexes } = dictionary;
  const out: string[] = new Array(indexes.length);
  for (let row = 0; row < indexes.length; row++) out[row] = values[indexes[row] as number] as string;
  return out;
}

function bigints(numbers: Float64Array): bigint[] {
  const out: bigint[] = new Array(numbers.length);
  for (let row = 0; row < numbers.length; row++) out[row] = BigInt(numbers[row] as number);
  return out;
}

function booleans(bits: Uint8Array): boolean[] {
  const out: boolean[] = new Array(bits.length);
  for (let row = 0; row < bits.length; row++) out[row] = bits[row] === 1;
  return out;
}

/** A view per value into the packed bytes (hyparquet-writer takes byte arrays as Uint8Array, and strings only through a TextEncoder call each). */
function views(packed: PackedStrings): Uint8Array[] {
  const { buffer, byteOffset } = packed.bytes;
  const out: Uint8Array[] = new Array(packed.lengths.length);
  let at = byteOffset;
  for (let index = 0; index < packed.lengths.length; index++) {
    const length = packed.lengths[index] as number;
    out[index] = new Uint8Array(buffer, at, length);
    at += length;
  }
  return out;
}

function fieldsObjects(json: string, indexes: Uint32Array): Record<string, unknown>[] {
  const objects = JSON.parse(json) as Record<string, unknown>[];
  const out: Record<string, unknown>[] = new Array(indexes.length);
  for (let row = 0; row < indexes.length; row++) {
    const index = indexes[row] as number;
    out[row] = index === 0 ? EMPTY_FIELDS : (objects[index - 1] as Record<string, unknown>);
  }
  return out;
}
