/**
 * The archive sink (docs/ARCHIVE.md): events as files that Spark, Hive,
 * Trino or DuckDB read directly, partitioned by each event's own time
 * (partition.ts), one open file per (tenant, partition), rolled at
 * `maxBytes` uncompressed or `maxAgeMs` after it was opened — the age timer
 * fires with no event arriving.
 *
 * Exactly once, without a state file of its own:
 * - A file is written under a hidden in-progress name, then finished
 *   (fsync), published (WebHDFS: uploaded), renamed to
 *   `<tenant>-<first>-<last>.<ext>` and its directory fsynced (target.ts,
 *   naming.ts). Only then is it committed.
 * - The sink holds events (`heldFrom`, types.ts): `delivered` means taken,
 *   and the runner commits its log offset no further than the first offset
 *   of the oldest open file. After a crash the runner reads again from there.
 * - Events already in a committed file are skipped: at its first send the sink lists
 *   the target (every committed file's range, range-index.ts); an event whose
 *   offset a committed file of its partition covers is not written again.
 *   The in-progress files the listing found are left over (a crash, or a
 *   Kafka partition's previous owner): each is deleted at the first write of
 *   its offset space, by the sink that owns that space now, unless the sink
 *   itself has it open — never one of a space another collector writes. Below `taken` (what this process
 *   already took, in an open or committed file) events are skipped too, so a
 *   replay (the runner's rewind) duplicates nothing.
 * - A failure while writing drops every open file of the tenant and answers
 *   `retry`: the runner reads again from its committed offset. A failure on
 *   the age timer is held (`failedFrom`): `heldDropped` tells the runner,
 *   which reads again from its committed offset even with no new event, and
 *   the next send is answered `retry`.
 *   A failed rename may still have happened (HDFS renamed, the answer was
 *   lost): the partitions of dropped files are listed again before the next
 *   write (`uncertain`), so such a file is skipped like any committed one.
 *   The archive never answers `reject`: a target's failure is not the events'
 *   fault. One an operator must fix (`retryable: false` on the error) is
 *   retried after REFUSED_RETRY_AFTER_MS.
 *
 * Offset spaces (naming.ts): with the embedded log, one per log (tenant),
 * an offset per event. With the Kafka log, one per topic partition
 * (kafkaOffsetSpace), shared by the tenants whose records are in it; an
 * event's position is its record's Kafka offset and its index in the
 * record, `heldFrom` answers a record offset, and files are named
 * `<log>~<topic>~<partition>-<record>_<index>-<record>_<index>`. When the
 * Kafka runner loses its partitions it calls `release`: the open files of
 * its topic are dropped (the next owner reads them again from the committed
 * offsets) and the target is listed again before the next write (another
 * collector may have committed files meanwhile).
 *
 * Formats: ndjson-file.ts (`.ndjson.zst`) and parquet-file.ts (`.parquet`).
 * Work per offset space is serialised (sends and timer rolls): `queue`.
 */
import { randomBytes } from "node:crypto";
import { assert } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logger.ts";
import { eventLogName } from "../../routing/streams.ts";
import { kafkaOffsetSpace, type SendContext, type SendOutcome, type Sink, type SinkEvent } from "../types.ts";
import type { ArchiveTarget } from "./target.ts";
import { comparePositions, committedFileName, IN_PROGRESS_PREFIX, inProgressFileName, inProgressFileSpace, parseCommittedFileName, rangeOwner, type KafkaPartitionRef, type LogPosition } from "./naming.ts";
import { renderPartition, type PartitionTemplate } from "./partition.ts";
import { RangeIndex } from "./range-index.ts";
import type { ArchiveFileWriter, ArchiveFormat } from "./writer.ts";

export interface ArchiveSinkOptions {
  /** Unique among sinks; "archive" in a collector built from its config. */
  name: string;
  /** file-target.ts or webhdfs-target.ts; closed by the sink's close. */
  target: ArchiveTarget;
  /** ndjson-file.ts or parquet-file.ts. Only committed files of this format count (another format's are ignored). */
  format: ArchiveFormat;
  partition: PartitionTemplate;
  /** Roll a file once its events take this many bytes uncompressed. */
  maxBytes: number;
  /** Roll a file this long after it was opened, whether or not events arrive. */
  maxAgeMs: number;
  /** Open files per tenant at most; opening one more rolls the oldest first (late events over many hours). */
  openFilesMax?: number;
  logger: Logger;
}

const OPEN_FILES_MAX_DEFAULT = 32;
/** After a target error an operator must fix (permissions, a path in the way: `retryable: false`), the runner waits this long before the next try. */
export const REFUSED_RETRY_AFTER_MS = 60_000;

interface OpenFile {
  /** rangeOwner(): the log, or the log in one Kafka partition. */
  owner: string;
  /** The partition directory. */
  partition: string;
  name: string;
  writer: ArchiveFileWriter;
  first: LogPosition;
  last: LogPosition;
  events: number;
  timer: ReturnType<typeof setTimeout>;
}

/** One offset space: a log (embedded), or a Kafka topic partition. */
interface TenantState {
  /** The offset space: the log, or kafkaOffsetSpace(). */
  space: string;
  /** The topic partition of a Kafka offset space; undefined for a log. */
  kafka: KafkaPartitionRef | undefined;
  /** Open files by owner and partition directory, in the order they were opened. */
  open: Map<string, OpenFile>;
  /** Every position below this was taken by this process (it is in an open or committed file). */
  taken: LogPosition;
  /** An age roll failed and dropped the open files from this offset: the next send answers retry. */
  failedFrom: number | null;
  /**
   * Partitions whose open file was dropped after a failure: its rename may
   * have happened even though it failed (a lost answer). Listed again before
   * the next write, so a file committed that way is in the range index.
   */
  uncertain: Set<string>;
  queue: Promise<void>;
}

export class ArchiveSink implements Sink {
  readonly name: string;
  private readonly options: ArchiveSinkOptions;
  private readonly openFilesMax: number;
  private readonly committed = new RangeIndex();
  private readonly tenants = new Map<string, TenantState>();
  /** The listing of the target at the first send (`recover`); null until then, and again after it failed. */
  private recovery: Promise<void> | null = null;
  /** Listings so far (the first is "opened" in the log; later ones follow a `release`). */
  private listings = 0;
  /** In-progress files the last listing found, by offset space: deleted at the space's next write unless open (inProgressFileSpace). */
  private leftovers = new Map<string, { directory: string; name: string }[]>();
  /** This sink's own in-progress files whose deletion failed (the target was down): deleted again before each write until it succeeds. */
  private undeleted: { directory: string; name: string }[] = [];
  private closed = false;

  /** Makes no request: the target is listed at the first send, so a target that is down at start shows up as retries. */
  constructor(options: ArchiveSinkOptions) {
    assert(options.maxBytes >= 1 && options.maxAgeMs >= 1, "archive roll limits are positive");
    this.name = options.name;
    this.options = options;
    this.openFilesMax = options.openFilesMax ?? OPEN_FILES_MAX_DEFAULT;
    assert(this.openFilesMax >= 1, "openFilesMax is at least 1");
  }

  /** Lists the target once: committed ranges are indexed, in-progress files noted as leftovers of their offset space. A failure is tried again at the next send. */
  private recover(): Promise<void> {
    if (this.recovery === null) {
      const recovery = this.listTarget();
      this.recovery = recovery;
      recovery.catch(() => {
        if (this.recovery === recovery) this.recovery = null; // the send that awaited it answers retry
      });
    }
    return this.recovery;
  }

  private async listTarget(): Promise<void> {
    const { target, format, logger } = this.options;
    const first = this.listings++ === 0;
    const leftovers = new Map<string, { directory: string; name: string }[]>();
    let inProgress = 0;
    let committed = 0;
    for (const file of await target.list()) {
      if (file.name.startsWith(IN_PROGRESS_PREFIX)) {
        const space = inProgressFileSpace(file.name);
        if (space === null) continue;
        const files = leftovers.get(space) ?? [];
        files.push({ directory: file.directory, name: file.name });
        leftovers.set(space, files);
        inProgress++;
        continue;
      }
      const parsed = parseCommittedFileName(file.name, format.extension);
      if (parsed === null) continue;
      this.committed.add(parsed.owner, file.directory, parsed.first, parsed.last);
      committed++;
    }
    this.leftovers = leftovers;
    logger.info(first ? "archive sink opened" : "archive sink listed its target again", { sink: this.name, root: target.root, committedFiles: committed, inProgressFiles: inProgress });
  }

  heldDropped(space: string): boolean {
    return (this.tenants.get(space)?.failedFrom ?? null) !== null;
  }

  heldFrom(space: string): number | null {
    const state = this.tenants.get(space);
    if (state === undefined) return null;
    if (state.failedFrom !== null) return state.failedFrom;
    return lowestOpenOffset(state);
  }

  send(events: SinkEvent[], _signal: AbortSignal, context?: SendContext): Promise<SendOutcome> {
    assert(context !== undefined && context.offsets.length === events.length, "the archive sink needs each event's log offset (runner.ts and kafka-log-runner.ts pass them)");
    assert(context.kafka === undefined || context.indexes?.length === events.length, "with the Kafka log, each event's index in its record");
    assert(!this.closed, "no send after close");
    const first = events[0];
    if (first === undefined) return Promise.resolve({ kind: "delivered" });
    // A send's events are of one log (both runners send one tenant's events per send). Offsets count
    // in that log, or in the Kafka partition: a stream's log has its own (collector/routing/streams.ts), so files are named by log.
    const log = eventLogName(first);
    const kafka = context.kafka;
    const state = this.tenantState(kafka === undefined ? log : kafkaOffsetSpace(kafka.topic, kafka.partition), kafka);
    return this.serialise(state, () => this.write(state, rangeOwner(log, kafka), events, context));
  }

  /** Drops, uncommitted, every open file of `topic`'s partitions and lists the target again before the next write (types.ts). */
  async release(topic: string): Promise<void> {
    const states = [...this.tenants.values()].filter((state) => state.kafka?.topic === topic);
    for (const state of states) {
      await this.serialise(state, async () => {
        const files = state.open.size;
        await this.discardOpenFiles(state);
        state.taken = { offset: 0, index: 0 };
        state.failedFrom = null;
        state.uncertain.clear();
        if (files > 0) this.options.logger.info("archive sink dropped the open files of a Kafka partition its runner is leaving; the partition's next owner writes them again", { sink: this.name, topic, partition: state.kafka?.partition, droppedFiles: files });
      });
    }
    if (states.length > 0) this.recovery = null;
  }

  /** Commits every open file (after the runners stopped): the next start skips what they hold. Then closes the target. */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.tenants.values()) {
      await this.serialise(state, async () => {
        // The Kafka runners released their partitions before (their next owner may already be writing them): nothing of theirs is committed now.
        if (state.kafka !== undefined) return this.discardOpenFiles(state);
        try {
          for (const file of [...state.open.values()]) await this.roll(state, file);
        } catch (error) {
          await this.dropOpenFiles(state, error, "archive sink could not commit its open files at close; they are read again at the next start");
        }
      });
    }
    await this.options.target.close();
  }

  private tenantState(space: string, kafka: KafkaPartitionRef | undefined): TenantState {
    let state = this.tenants.get(space);
    if (state === undefined) {
      state = { space, kafka, open: new Map(), taken: { offset: 0, index: 0 }, failedFrom: null, uncertain: new Set(), queue: Promise.resolve() };
      this.tenants.set(space, state);
    }
    return state;
  }

  private serialise<T>(state: TenantState, work: () => Promise<T>): Promise<T> {
    const result = state.queue.then(work);
    state.queue = result.then(
      () => undefined,
      () => undefined, // the caller of `work` gets its failure; the queue goes on
    );
    return result;
  }

  private async write(state: TenantState, owner: string, events: SinkEvent[], context: SendContext): Promise<SendOutcome> {
    if (state.failedFrom !== null) {
      const from = state.failedFrom;
      state.failedFrom = null;
      state.taken = lower(state.taken, { offset: from, index: 0 });
      return { kind: "retry", reason: `archive: a file from offset ${from} could not be committed; reading again` };
    }
    const touched = new Set<OpenFile>();
    try {
      await this.recover();
      await this.relistUncertain(state);
      await this.removeLeftovers(state);
      await this.removeUndeleted();
      // A send's events are of one tenant and mostly share their time text (a batch's observed time): render a partition once per text.
      let lastTime: string | null = null;
      let partition = "";
      for (let index = 0; index < events.length; index++) {
        const event = events[index];
        const offset = context.offsets[index];
        assert(event !== undefined && offset !== undefined, "one offset per event");
        const position = { offset, index: context.indexes?.[index] ?? 0 };
        if (comparePositions(position, state.taken) < 0) continue;
        if (event.time !== lastTime) {
          partition = renderPartition(this.options.partition, event.tenant, eventTimeMs(event));
          lastTime = Number.isNaN(Date.parse(event.time)) ? null : event.time; // an unparsed time's partition comes from each event's observed time
        }
        const next = { offset, index: position.index + 1 };
        if (this.committed.covers(owner, partition, position)) {
          state.taken = next;
          continue;
        }
        const file = state.open.get(openKey(owner, partition)) ?? (await this.openFile(state, owner, partition, position));
        file.writer.append(event);
        file.last = position;
        file.events++;
        touched.add(file);
        state.taken = next;
        if (file.writer.uncompressedBytes >= this.options.maxBytes) {
          touched.delete(file);
          await this.roll(state, file);
        }
      }
      for (const file of touched) await file.writer.flush();
      return { kind: "delivered" };
    } catch (error) {
      const message = await this.dropOpenFiles(state, error, "archive write failed; dropped the open files, the runner reads again from its committed offset");
      const refused = (error as { retryable?: unknown }).retryable === false;
      return refused ? { kind: "retry", afterMs: REFUSED_RETRY_AFTER_MS, reason: `archive: ${message}` } : { kind: "retry", reason: `archive: ${message}` };
    }
  }

  /** Deletes the in-progress files of the space the last listing found, but those the sink has open (the space is this sink's to write now, so the rest are left over). */
  private async removeLeftovers(state: TenantState): Promise<void> {
    const files = this.leftovers.get(state.space);
    if (files === undefined) return;
    this.leftovers.delete(state.space);
    const open = new Set([...state.open.values()].map((file) => file.name));
    let removed = 0;
    for (const file of files) {
      if (open.has(file.name)) continue;
      try {
        await this.options.target.remove(file.directory, file.name);
        removed++;
      } catch (error) {
        this.undeleted.push(file);
        this.options.logger.warn("archive could not delete a left-over in-progress file; it is deleted again before the next write", { sink: this.name, file: file.name, error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (removed > 0) this.options.logger.info("archive deleted in-progress files left over in an offset space it writes (a crash, or the partition's previous owner)", { sink: this.name, space: state.space, deletedInProgressFiles: removed });
  }

  /** Deletes the in-progress files a drop could not delete; one that fails again stays for the next write (a best effort: readers never see them). */
  private async removeUndeleted(): Promise<void> {
    if (this.undeleted.length === 0) return;
    const files = this.undeleted;
    this.undeleted = [];
    for (const file of files) {
      try {
        await this.options.target.remove(file.directory, file.name);
        this.options.logger.info("archive deleted an in-progress file it could not delete before", { sink: this.name, file: file.name });
      } catch {
        // Still down: its own warning was logged when it was first left; the next write tries again.
        this.undeleted.push(file);
      }
    }
  }

  /** Lists the partitions of files dropped after a failure and indexes the committed files found there. */
  private async relistUncertain(state: TenantState): Promise<void> {
    for (const partition of [...state.uncertain]) {
      for (const file of await this.options.target.list(partition)) {
        const parsed = parseCommittedFileName(file.name, this.options.format.extension);
        if (parsed !== null) this.committed.add(parsed.owner, partition, parsed.first, parsed.last);
      }
      state.uncertain.delete(partition);
    }
  }

  private async openFile(state: TenantState, owner: string, partition: string, first: LogPosition): Promise<OpenFile> {
    if (state.open.size >= this.openFilesMax) {
      const oldest = state.open.values().next().value;
      assert(oldest !== undefined, "a full map has a first entry");
      await this.roll(state, oldest);
    }
    await this.options.target.ensureDirectory(partition);
    const name = inProgressFileName(owner, first, randomBytes(4).toString("hex"));
    const writer = await this.options.format.create(this.options.target.writePath(partition, name));
    const timer = setTimeout(() => this.rollOnAge(state, file), this.options.maxAgeMs);
    timer.unref?.();
    const file: OpenFile = { owner, partition, name, writer, first, last: first, events: 0, timer };
    state.open.set(openKey(owner, partition), file);
    return file;
  }

  private rollOnAge(state: TenantState, file: OpenFile): void {
    void this.serialise(state, async () => {
      if (state.open.get(openKey(file.owner, file.partition)) !== file) return; // rolled by size or dropped meanwhile
      try {
        await this.roll(state, file);
      } catch (error) {
        // Held before the files go: while they are deleted, heldFrom must not answer null (the runner would commit past them).
        state.failedFrom = lowestOpenOffset(state) ?? file.first.offset;
        await this.dropOpenFiles(state, error, "archive age roll failed; dropped the open files, the runner reads them again from its committed offset");
      }
    });
  }

  /** finish (fsync) → publish (WebHDFS: upload) → rename → fsync the directory; only then is the file committed and its range indexed. */
  private async roll(state: TenantState, file: OpenFile): Promise<void> {
    clearTimeout(file.timer);
    await file.writer.finish();
    await this.options.target.publish(file.partition, file.name);
    const finalName = committedFileName(file.owner, file.first, file.last, this.options.format.extension);
    await this.options.target.rename(file.partition, file.name, finalName);
    // Renamed: from here its events are skipped, even if the directory's fsync fails (then the send answers retry and nothing is committed past it yet).
    state.open.delete(openKey(file.owner, file.partition));
    this.committed.add(file.owner, file.partition, file.first, file.last);
    await this.options.target.syncDirectory(file.partition);
    this.options.logger.info("archive file committed", { sink: this.name, owner: file.owner, partition: file.partition, file: finalName, events: file.events, uncompressedBytes: file.writer.uncompressedBytes });
  }

  /** Throws away every open file of the space (their events are read again): `taken` goes back to the oldest one's first position. Logs `what`; returns the error's message. */
  private async dropOpenFiles(state: TenantState, error: unknown, what: string): Promise<string> {
    const message = error instanceof Error ? error.message : String(error);
    const files = await this.discardOpenFiles(state);
    this.options.logger.error(what, { sink: this.name, error: message, droppedFiles: files });
    return message;
  }

  /** Aborts and deletes every open file of the space (their events are read again); returns how many. */
  private async discardOpenFiles(state: TenantState): Promise<number> {
    const files = [...state.open.values()];
    state.open.clear();
    for (const file of files) {
      clearTimeout(file.timer);
      state.uncertain.add(file.partition);
      state.taken = lower(state.taken, file.first);
      try {
        await file.writer.abort();
        await this.options.target.remove(file.partition, file.name);
      } catch (cleanupError) {
        // Left behind, it is hidden from readers; deleted before the next write (or at the next start).
        this.undeleted.push({ directory: file.partition, name: file.name });
        this.options.logger.warn("archive could not delete a dropped in-progress file; it is deleted again before the next write", { sink: this.name, file: file.name, error: cleanupError instanceof Error ? cleanupError.message : String(cleanupError) });
      }
    }
    return files.length;
  }
}

/** Open files are one per owner and partition directory. */
function openKey(owner: string, partition: string): string {
  return `${owner}\0${partition}`;
}

function lower(a: LogPosition, b: LogPosition): LogPosition {
  return comparePositions(a, b) <= 0 ? a : b;
}

function lowestOpenOffset(state: TenantState): number | null {
  let lowest: number | null = null;
  for (const file of state.open.values()) lowest = lowest === null ? file.first.offset : Math.min(lowest, file.first.offset);
  return lowest;
}

/** The event's own time; its observed time when the time does not parse (the agent always sets both). */
function eventTimeMs(event: SinkEvent): number {
  const timeMs = Date.parse(event.time);
  if (!Number.isNaN(timeMs)) return timeMs;
  const observedMs = Date.parse(event.observed_time);
  return Number.isNaN(observedMs) ? 0 : observedMs;
}
