/**
 * Archive file names (docs/ARCHIVE.md, "Naming"). A file's name carries the
 * range of log positions it holds, so the target's names are the sink's
 * state. Two offset spaces:
 *
 *   embedded log: one per log (tenant, or tenant@stream), an offset per event
 *     <log>-<first offset>-<last offset>.<extension>
 *
 *   Kafka log: one per topic partition, shared by every tenant's records;
 *   an event's position is its record's Kafka offset and its index in the
 *   record (the batch's n-th event, from 0)
 *     <log>~<topic>~<partition>-<first record>_<first index>-<last record>_<last index>.<extension>
 *
 * A committed file holds every event of its owner (the log, or the log in
 * that Kafka partition) in its directory whose position is in [first,
 * last]. In progress:
 *
 *   .inprogress-<owner>-<first>-<nonce>     hidden (a leading "."), no format
 *                                           extension: Spark, Hive and DuckDB
 *                                           globs never read it
 *
 * Numbers are decimal, unpadded. Tenants and Kafka topics never contain
 * "~" (both: letters, digits, "_", "." and "-"), so the two forms cannot be
 * mistaken for each other; names may contain "-", so the numbers are
 * parsed from the end.
 */

import { kafkaOffsetSpace } from "../types.ts";

export const IN_PROGRESS_PREFIX = ".inprogress-";
const KAFKA_SEPARATOR = "~";

/** A place in an offset space: the log offset (embedded; index 0) or the Kafka record offset and the event's index in the record. */
export interface LogPosition {
  offset: number;
  index: number;
}

/** A Kafka topic partition: the offset space of a sink reading the Kafka log. */
export interface KafkaPartitionRef {
  topic: string;
  partition: number;
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.offset !== b.offset ? a.offset - b.offset : a.index - b.index;
}

/** Who a file's range counts in: the log itself (embedded), or the log's events in one Kafka partition. */
export function rangeOwner(log: string, kafka?: KafkaPartitionRef): string {
  return kafka === undefined ? log : `${log}${KAFKA_SEPARATOR}${kafka.topic}${KAFKA_SEPARATOR}${kafka.partition}`;
}

function isKafkaOwner(owner: string): boolean {
  return owner.includes(KAFKA_SEPARATOR);
}

function positionText(owner: string, position: LogPosition): string {
  return isKafkaOwner(owner) ? `${position.offset}_${position.index}` : String(position.offset);
}

export function committedFileName(owner: string, first: LogPosition, last: LogPosition, extension: string): string {
  return `${owner}-${positionText(owner, first)}-${positionText(owner, last)}.${extension}`;
}

export function inProgressFileName(owner: string, first: LogPosition, nonce: string): string {
  return `${IN_PROGRESS_PREFIX}${owner}-${positionText(owner, first)}-${nonce}`;
}

export interface CommittedFile {
  /** rangeOwner(): the log, or `<log>~<topic>~<partition>`. */
  owner: string;
  first: LogPosition;
  last: LogPosition;
}

const EMBEDDED_NAME = /^([^~]+)-(\d+)-(\d+)$/;
const KAFKA_NAME = /^([^~]+~[^~]+~\d+)-(\d+)_(\d+)-(\d+)_(\d+)$/;

/** The owner and range a committed file's name carries; null for any other name. */
export function parseCommittedFileName(name: string, extension: string): CommittedFile | null {
  const suffix = `.${extension}`;
  if (!name.endsWith(suffix) || name.startsWith(".")) return null;
  const stem = name.slice(0, -suffix.length);
  const kafka = KAFKA_NAME.exec(stem);
  const embedded = kafka === null ? EMBEDDED_NAME.exec(stem) : null;
  const numbers = kafka !== null ? [kafka[2], kafka[3], kafka[4], kafka[5]] : embedded !== null ? [embedded[2], "0", embedded[3], "0"] : null;
  const owner = kafka?.[1] ?? embedded?.[1];
  if (numbers === null || owner === undefined) return null;
  const [firstOffset, firstIndex, lastOffset, lastIndex] = numbers.map(Number);
  if (![firstOffset, firstIndex, lastOffset, lastIndex].every((value) => Number.isSafeInteger(value))) return null;
  const first = { offset: firstOffset as number, index: firstIndex as number };
  const last = { offset: lastOffset as number, index: lastIndex as number };
  if (comparePositions(first, last) > 0) return null;
  return { owner, first, last };
}

const EMBEDDED_IN_PROGRESS = /^\.inprogress-([^~]+)-\d+-[0-9a-f]+$/;
const KAFKA_IN_PROGRESS = /^\.inprogress-[^~]+~([^~]+)~(\d+)-\d+_\d+-[0-9a-f]+$/;

/**
 * The offset space an in-progress file's events count in (the log, or
 * kafkaOffsetSpace of its topic partition): whoever writes that space now
 * owns the file's events, so a file of it the writer did not open is left
 * over (a crash, or a previous owner of the partition). Null for a name
 * this sink does not make.
 */
export function inProgressFileSpace(name: string): string | null {
  const kafka = KAFKA_IN_PROGRESS.exec(name);
  if (kafka !== null) return kafkaOffsetSpace(kafka[1] as string, Number(kafka[2]));
  return EMBEDDED_IN_PROGRESS.exec(name)?.[1] ?? null;
}
