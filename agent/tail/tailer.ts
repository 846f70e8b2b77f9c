/**
 * The tailer: follows every file the rules match and hands their events,
 * in file order, to a BlockOutput. It owns file identity, rotation, fairness,
 * acknowledgements and checkpoints; what events look like is decode.ts's
 * business, where they go is the output's.
 *
 * One pass reads at most `read_bytes_per_pass` from each file that may have
 * data, so a busy file cannot starve quiet ones. Output backpressure is an
 * awaited promise: while the output is full, reading stops.
 *
 * Rotation, as docs/TAILING.md tells in full:
 * - rename + create: the renamed file keeps its inode, hence its stream; it is
 *   read to its end; the new file is a new stream read from offset 0.
 * - copytruncate: the copy appears with the same head as a file being read
 *   and is held back ("shadow"); when the original's truncation is seen, its
 *   stream detaches and the copy adopts it at the offset where reading
 *   stopped, so the bytes written between the last read and the copy are
 *   read once, from the copy. The truncated original restarts from 0 as a
 *   new generation. A copy no longer than what was read of the original
 *   holds nothing unread and is not tailed. A new file found empty is held
 *   open, unread, until it has a head: it may be a copy being made.
 * - deletion: an open file whose link count drops to 0 is drained, then
 *   closed (freeing its disk space).
 *
 * Reload (`reload`, docs/RELOAD.md): new rules are applied between passes.
 * A stream keeps its identity and offsets whatever rule it follows; a
 * stream of a changed rule goes on under the new rule from where reading
 * is, one of a removed rule is handed to another rule that matches its file
 * or else stopped (its held multiline event goes out, it closes, and it is
 * forgotten once acknowledged).
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";
import { streamKey } from "../../shared/event.ts";
import { LogshipError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { BlockOutput, EventBlock, StreamInfo } from "../events.ts";
import type { CheckpointEntry, CheckpointStore } from "./checkpoint.ts";
import type { Decoded } from "./decode.ts";
import { rawLines } from "./decode.ts";
import { applyTransforms, type TransformContext } from "../transforms/block.ts";
import { Discovery } from "./discovery.ts";
import { BufferPool } from "../../shared/buffer-pool.ts";
import { WakeableSleep } from "../../shared/wakeable-sleep.ts";
import { fileStartsWith, hashBytes, keyHead, readAt, samePrefix } from "./fingerprint.ts";
import type { SourceRuntime, TailOptions } from "./source.ts";
import { FileStream, MARKER_BYTES, type StreamState } from "./stream.ts";
import { StatSchedule } from "./stat-schedule.ts";
import { HeadIndex } from "./head-index.ts";

export interface TailerOptions {
  sources: SourceRuntime[];
  tail: TailOptions;
  host: string;
  output: BlockOutput;
  checkpoints: CheckpointStore;
  logger: Logger;
  /** Read every file from its start, ignoring start_at (dry-run). */
  fromBeginning: boolean;
  /** Stop once every file is read to its end (dry-run --once). */
  once: boolean;
  /** Watch for file events (off in --once mode). */
  watch: boolean;
  /**
   * Streams with batches still in the agent's spool after a restart: stream
   * key → end offset of the last spooled batch. Reading resumes there; the
   * checkpoint moves past it when `ackSpooled(key)` says those batches are
   * acknowledged.
   */
  spooled?: ReadonlyMap<string, number>;
  /**
   * Stream key → end offset of lines acknowledged before a restart that the
   * checkpoint may not cover yet (the agent's spool remembers them): the
   * checkpoint starts there (at most at the `spooled` end) instead.
   */
  delivered?: ReadonlyMap<string, number>;
}

/** What `logship status` and tests see of a stream. */
export interface StreamStatus {
  path: string;
  currentPath: string;
  source: string;
  state: string;
  readOffset: number;
  ackedOffset: number;
  /** How long housekeeping waits before it looks at the file again: `statIntervalMs` doubled per look that saw no change, up to `statIntervalMaxMs`. */
  pollIntervalMs: number | null;
}

/** Room in a pooled read buffer for a carried partial line; a longer one gets a one-off buffer. */
const READ_CARRY_BYTES = 64 * 1024;
/** Reads up to this size use a small one-off buffer instead of a pooled one. */
const SMALL_READ_BYTES = 16 * 1024;
/** Free read buffers kept for reuse: 4 cover the reads in flight; more only held RSS (test/memory/spool-memory.test.ts holds the agent's peak). */
const READ_BUFFERS_MAX = 4;

function noRelease(): void {}

export class Tailer {
  private readonly options: TailerOptions;
  private readonly logger: Logger;
  private sources = new Map<string, SourceRuntime>();
  private discovery: Discovery;
  /** New rules waiting to be applied between passes (`reload`); the last request wins. */
  private reloadRequest: { sources: SourceRuntime[]; settle: (error?: Error) => void } | null = null;
  /** Every stream that is not done-and-acknowledged, keyed by device:inode when it has a file. */
  private readonly streams = new Set<FileStream>();
  /** Bytes and lines read from files since start (metrics). */
  bytesRead = 0;
  linesRead = 0;
  /** Stat calls of the poll on open files since start (metrics): what the backoff of quiet files saves. */
  filePolls = 0;
  private readonly byInode = new Map<string, FileStream>();
  /**
   * When housekeeping looks at each stream next (a stat of its file, its
   * state's timeouts). An open file that shows no change backs off, up to
   * `statIntervalMaxMs`; a change puts it back at `statIntervalMs`.
   */
  private readonly statSchedule: StatSchedule<FileStream>;
  /** Streams that lost their file — detached (truncated) or orphan (from the checkpoint): what a new file may continue. */
  private readonly lost = new Set<FileStream>();
  /** Streams by their head's leading bytes: what a new file may be a copy of. */
  private readonly heads = new HeadIndex<FileStream>();
  /** Streams whose decoder holds a multiline event: their timeouts are watched. */
  private readonly holding = new Set<FileStream>();
  /** Paths reported by discovery, waiting to be looked at. */
  private readonly pending = new Map<string, string>();
  /**
   * Files held back, open, as copies of a file being read (copytruncate's
   * copy, made before the truncation), by device:inode. Kept open so that the
   * copy can be adopted even if logrotate renames or compresses it away first.
   */
  private readonly shadows = new Map<string, Shadow>();
  /**
   * Copies not tailed — never needed (their original was not truncated), or
   * holding nothing that was not read already — and files left empty for
   * close_inactive, by device:inode, with the size and mtime they had: not
   * looked at again while those stay the same (a file that changes, or a
   * later file that reuses the inode number, is looked at anew).
   */
  private readonly ignoredCopies = new Map<string, string>();
  /**
   * New files that were empty when found, held open by device:inode until
   * they have bytes: an empty file has no head to know it by, and may be a
   * copy logrotate is about to fill (copytruncate) and soon renames away.
   */
  private readonly empties = new Map<string, EmptyFile>();
  /** Paths waiting for a free slot under max_open_files, path → source. */
  private readonly waiting = new Map<string, string>();
  private openFiles = 0;
  private stopped = false;
  private readonly sleeper = new WakeableSleep();
  private startedMs = 0;
  private checkpointDirty = false;
  /** Read buffers, reused once the output has copied a block's lines (see BufferPool). */
  private readonly readBuffers: BufferPool;
  private readonly checkpointMarkers = new Map<FileStream, { offset: number; bytes: number; hash: string }>();
  /** Acknowledge functions of spooled ranges restored at start, by stream key. */
  private readonly spooledAcks = new Map<string, () => void>();

  constructor(options: TailerOptions) {
    this.options = options;
    this.logger = options.logger;
    for (const source of options.sources) this.sources.set(source.name, source);
    this.readBuffers = new BufferPool(options.tail.readBytesPerPass + READ_CARRY_BYTES, READ_BUFFERS_MAX);
    this.statSchedule = new StatSchedule(options.tail.statIntervalMs, Math.max(options.tail.statIntervalMs, options.tail.statIntervalMaxMs));
    this.discovery = this.createDiscovery(options.sources);
  }

  private createDiscovery(sources: SourceRuntime[]): Discovery {
    return new Discovery(
      sources.map((source) => ({ source: source.name, paths: source.paths, exclude: source.exclude })),
      (path, source) => this.discovered(path, source),
      this.logger,
    );
  }

  /** Follow files until `signal` aborts (or, with `once`, until every file is read). */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => {
      this.stopped = true;
      this.wake();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    // A signal that aborted already (SIGTERM while the agent was starting) fires no event.
    if (signal.aborted) onAbort();
    try {
      this.startedMs = Date.now();
      await this.restore();
      await this.discovery.scan();
      await this.attachPending(true);
      if (this.options.watch) {
        this.discovery.watch().catch((error: unknown) => this.logger.warn("starting the file watch failed; relying on rescans", { error: String(error) }));
      }
      await this.loop();
      if (this.options.once) await this.flushAll();
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.reloadRequest?.settle(new LogshipError("LOGSHIP_RELOAD_STOPPED", "the agent is stopping; the reload was not applied"));
      this.reloadRequest = null;
      await this.discovery.close();
      await this.saveCheckpoint();
    }
  }

  /**
   * Write the checkpoint now (acknowledgements may still arrive after `run`
   * returned, while the agent drains) and close every file. Call once, last.
   */
  async close(): Promise<void> {
    this.checkpointDirty = true;
    await this.saveCheckpoint();
    for (const stream of this.streams) await this.closeHandle(stream);
    for (const [inodeKey, shadow] of this.shadows) {
      this.shadows.delete(inodeKey);
      this.openFiles--;
      await shadow.handle.close();
    }
    for (const [inodeKey, empty] of this.empties) {
      this.empties.delete(inodeKey);
      this.openFiles--;
      await empty.handle.close();
    }
  }

  /** Every batch of this stream that was in the spool at start is acknowledged. */
  ackSpooled(key: string): void {
    const ack = this.spooledAcks.get(key);
    this.spooledAcks.delete(key);
    ack?.();
  }

  status(): StreamStatus[] {
    return [...this.streams].map((stream) => ({
      path: stream.pathLabel,
      currentPath: stream.currentPath,
      source: stream.source.name,
      state: stream.state,
      readOffset: stream.readOffset,
      ackedOffset: stream.acks.ackedOffset,
      pollIntervalMs: this.statSchedule.intervalMs(stream) ?? null,
    }));
  }

  // ---- main loop -------------------------------------------------------

  private async loop(): Promise<void> {
    const tail = this.options.tail;
    let lastStatMs = Date.now();
    let lastScanMs = Date.now();
    let lastCheckpointMs = Date.now();
    while (!this.stopped) {
      if (this.reloadRequest !== null) await this.applyReload();
      await this.attachPending(false);
      let bytesRead = 0;
      for (const stream of [...this.streams]) {
        if (this.stopped) break;
        if (stream.handle === null || !stream.mayHaveData) continue;
        bytesRead += await this.readOnce(stream);
      }
      const nowMs = Date.now();
      await this.flushTimedOut(nowMs);
      if (nowMs - lastStatMs >= tail.statIntervalMs) {
        lastStatMs = nowMs;
        await this.checkHeldFiles(nowMs);
      }
      await this.checkDueStreams(nowMs);
      if (!this.options.once && nowMs - lastScanMs >= tail.rescanIntervalMs) {
        lastScanMs = nowMs;
        await this.discovery.scan();
        await this.checkIdle();
      }
      if (nowMs - lastCheckpointMs >= tail.checkpointIntervalMs) {
        lastCheckpointMs = nowMs;
        await this.saveCheckpoint();
      }
      if (bytesRead > 0) continue;
      if (this.options.once && this.allRead()) return;
      await this.idle(nowMs, lastCheckpointMs + tail.checkpointIntervalMs, lastScanMs + tail.rescanIntervalMs);
    }
  }

  private allRead(): boolean {
    if (this.pending.size > 0) return false;
    for (const stream of this.streams) {
      if (stream.handle !== null && stream.mayHaveData) return false;
    }
    return true;
  }

  /**
   * Sleep until something is due — a stream's stat (StatSchedule), a
   * multiline timeout, the checkpoint, the rescan — or a wake-up (a file
   * event, an acknowledgement, a reload). Files held open while empty or
   * as copies, and files waiting for a slot, are looked at every
   * `statIntervalMs`.
   */
  private async idle(nowMs: number, checkpointDueMs: number, rescanDueMs: number): Promise<void> {
    const tail = this.options.tail;
    if (this.options.once || this.pending.size > 0) return;
    let waitMs = Math.max(1, rescanDueMs - nowMs);
    for (const stream of this.holding) {
      const timeout = stream.decoder.msUntilTimeout(nowMs);
      if (timeout === null) this.holding.delete(stream);
      else waitMs = Math.min(waitMs, timeout);
    }
    const statDueMs = this.statSchedule.msUntilNextDue(nowMs);
    if (statDueMs !== null) waitMs = Math.min(waitMs, Math.max(statDueMs, 1));
    if (this.empties.size > 0 || this.shadows.size > 0 || this.waiting.size > 0) waitMs = Math.min(waitMs, tail.statIntervalMs);
    // Acknowledged offsets not on disk yet are written when the checkpoint is due, not at the next stat.
    if (this.checkpointDirty) waitMs = Math.min(waitMs, Math.max(1, checkpointDueMs - nowMs));
    if (waitMs <= 0) return;
    await this.sleeper.sleep(waitMs);
  }

  private wake(): void {
    this.sleeper.wake();
  }

  /**
   * An acknowledgement moves a checkpoint: it marks the checkpoint dirty (the
   * block's send may have been checkpointed already, before its ack came) and
   * wakes an idle loop so the offset is written within checkpoint_interval.
   */
  private acknowledger(ack: () => void): () => void {
    return () => {
      ack();
      this.checkpointDirty = true;
      this.wake();
    };
  }

  // ---- reload ----------------------------------------------------------

  /**
   * Follow these rules from the next pass on. A rule passed as the same
   * object as before is unchanged; a new object with a known name is a
   * changed rule. Resolves once applied; rejects if the tailer stops first.
   */
  reload(sources: SourceRuntime[]): Promise<void> {
    const names = new Set(sources.map((source) => source.name));
    if (names.size !== sources.length) throw new Error("assertion failed: source names are unique");
    return new Promise<void>((resolve, reject) => {
      this.reloadRequest?.settle(new LogshipError("LOGSHIP_RELOAD_REPLACED", "a later reload replaced this one before it was applied"));
      this.reloadRequest = { sources, settle: (error) => (error === undefined ? resolve() : reject(error)) };
      this.wake();
    });
  }

  private async applyReload(): Promise<void> {
    const request = this.reloadRequest as NonNullable<Tailer["reloadRequest"]>;
    this.reloadRequest = null;
    try {
      const before = this.discovery;
      await before.close();
      this.sources = new Map(request.sources.map((source) => [source.name, source]));
      this.discovery = this.createDiscovery(request.sources);
      const nowMs = Date.now();
      for (const stream of [...this.streams]) {
        if (stream.state === "done" || this.sources.get(stream.source.name) === stream.source) continue;
        const owner = this.ownerAfterReload(stream);
        if (owner === null) await this.stopFollowing(stream, nowMs);
        else await this.retarget(stream, owner, nowMs);
      }
      await this.reassignWaiting();
      await this.discovery.scan();
      // A file the old rules did not match is seen for the first time: start_at applies, as at startup.
      const fresh = new Set([...this.pending.keys()].filter((path) => before.ruleFor(path) === null));
      await this.attachPending(false, fresh);
      if (this.options.watch) {
        this.discovery.watch().catch((error: unknown) => this.logger.warn("starting the file watch failed; relying on rescans", { error: String(error) }));
      }
      request.settle();
    } catch (error) {
      request.settle(error as Error);
      throw error;
    }
  }

  /** The rule a stream of a changed or removed rule follows after the reload; null: none. */
  private ownerAfterReload(stream: FileStream): SourceRuntime | null {
    const sameName = this.sources.get(stream.source.name);
    // A rotated-away file (draining, detached) is read to its end under its own rule, whatever its name now.
    const rotatedAway = stream.state === "draining" || stream.state === "detached";
    if (sameName !== undefined && (rotatedAway || this.discovery.matches(sameName.name, stream.currentPath))) return sameName;
    const other = this.discovery.ruleFor(stream.currentPath);
    return other === null ? null : (this.sources.get(other) ?? null);
  }

  /** Go on under another rule from where reading is: the old rule's held multiline event goes out first. */
  private async retarget(stream: FileStream, source: SourceRuntime, nowMs: number): Promise<void> {
    const held = stream.decoder.flush(nowMs, true);
    if (held !== null) await this.emit(stream, held, stream.splitter.pendingOffset, nowMs);
    const from = stream.source.name;
    stream.retarget(source);
    this.infos.delete(stream);
    this.checkpointDirty = true;
    this.logger.info("file follows the reloaded rule", { path: stream.currentPath, source: source.name, ...(from === source.name ? {} : { previous_source: from }), offset: stream.readOffset });
  }

  /**
   * No rule matches the file any more: the held multiline event goes out, the
   * file closes, and the stream is forgotten once what was sent is
   * acknowledged. A partial last line (no newline yet) is not sent: it may be
   * half a line still being written.
   */
  private async stopFollowing(stream: FileStream, nowMs: number): Promise<void> {
    const held = stream.decoder.flush(nowMs, true);
    if (held !== null) await this.emit(stream, held, stream.splitter.pendingOffset, nowMs);
    await this.closeHandle(stream);
    this.setState(stream, "done", nowMs);
    if (this.byInode.get(stream.inodeKey) === stream) this.byInode.delete(stream.inodeKey);
    this.checkpointDirty = true;
    this.logger.info("stopped following file: its rule was removed", { path: stream.currentPath, source: stream.source.name, offset: stream.acks.trackedOffset });
  }

  /** Files found but not followed yet go to the rule that now matches them, or are let go. */
  private async reassignWaiting(): Promise<void> {
    for (const files of [this.pending, this.waiting]) {
      for (const path of [...files.keys()]) {
        const owner = this.discovery.ruleFor(path);
        if (owner === null) files.delete(path);
        else files.set(path, owner);
      }
    }
    for (const [inodeKey, empty] of [...this.empties]) {
      const owner = this.discovery.ruleFor(empty.path);
      if (owner !== null) {
        empty.source = owner;
        continue;
      }
      this.empties.delete(inodeKey);
      this.openFiles--;
      await empty.handle.close();
    }
  }

  // ---- discovery and attaching ------------------------------------------

  private discovered(path: string, source: string): void {
    // An event still on its way from the watch a reload replaced may name a rule that is gone.
    if (!this.sources.has(source)) return;
    this.pending.set(path, source);
    // A scan that runs beside the loop (the one after the watch starts) finds files while the loop sleeps: they wake it too.
    this.wake();
  }

  /** `startAt`: paths seen for the first time that start where start_at says, as at startup. */
  private async attachPending(startup: boolean, startAt: ReadonlySet<string> = new Set()): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [path, source] of batch) await this.attach(path, source, startup || startAt.has(path));
  }

  /** Look at one matching path: a known file, a copy of one, or a new file. */
  private async attach(path: string, sourceName: string, startup: boolean): Promise<void> {
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      this.logger.warn("cannot stat file", { path, error: (error as Error).message });
      return;
    }
    if (!stats.isFile()) return;
    const nowMs = Date.now();
    const inodeKey = `${stats.dev}:${stats.ino}`;
    const known = this.byInode.get(inodeKey);
    if (known !== undefined && known.state !== "orphan" && known.state !== "done") {
      this.seenAgain(known, path, stats, nowMs);
      return;
    }
    const ignored = this.ignoredCopies.get(inodeKey);
    if (ignored !== undefined) {
      if (ignored === copySignature(stats)) return;
      this.ignoredCopies.delete(inodeKey);
    }
    const shadow = this.shadows.get(inodeKey);
    if (shadow !== undefined) {
      shadow.path = path;
      return;
    }
    const empty = this.empties.get(inodeKey);
    if (empty !== undefined) {
      empty.path = path;
      if (stats.size > 0) await this.fillEmpty(inodeKey, empty);
      return;
    }
    if (this.openFiles >= this.options.tail.openFilesMax) {
      if (!this.waiting.has(path)) this.logger.warn("max_open_files reached; file waits for a free slot", { path, max_open_files: this.options.tail.openFilesMax });
      this.waiting.set(path, sourceName);
      return;
    }
    this.waiting.delete(path);
    const source = this.sources.get(sourceName);
    if (source === undefined) {
      // Queued under a rule a reload removed since, or a held-back copy that no rule matches any more: not ours to read.
      this.logger.debug("no tail rule matches the file any more; not tailed", { path, rule: sourceName });
      return;
    }
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      this.logger.warn("cannot open file", { path, error: (error as Error).message });
      return;
    }
    const opened = await handle.stat();
    if (`${opened.dev}:${opened.ino}` !== inodeKey) {
      // Replaced between stat and open: look again next pass.
      await handle.close();
      this.pending.set(path, sourceName);
      return;
    }
    this.openFiles++;
    if (opened.size === 0) {
      this.empties.set(inodeKey, { path, source: sourceName, handle, sinceMs: nowMs });
      return;
    }
    await this.classify(handle, opened, path, source, known, startup, nowMs);
  }

  /** An empty file held open got bytes: now it can be told apart (a copy, or a new file read from 0). */
  private async fillEmpty(inodeKey: string, empty: EmptyFile): Promise<void> {
    this.empties.delete(inodeKey);
    const source = this.sources.get(empty.source);
    if (source === undefined) throw new Error(`assertion failed: source ${empty.source} exists`);
    const known = this.byInode.get(inodeKey);
    if (known !== undefined && known.state !== "orphan" && known.state !== "done") {
      // Followed meanwhile under another name: that stream has it.
      this.openFiles--;
      await empty.handle.close();
      return;
    }
    const opened = await empty.handle.stat();
    await this.classify(empty.handle, opened, empty.path, source, known, false, Date.now());
  }

  /** An open file not followed yet: the rest of a stream, a copy of one, or a new file. */
  private async classify(handle: FileHandle, opened: Stats, path: string, source: SourceRuntime, known: FileStream | undefined, startup: boolean, nowMs: number): Promise<void> {
    const inodeKey = `${opened.dev}:${opened.ino}`;
    const head = await readAt(handle, 0, this.options.tail.fingerprintBytes);
    const adopted = await this.adopt(handle, opened, head, path, known, nowMs);
    if (adopted !== null) return;
    const reader = this.readerOfCopy(head, opened);
    if (reader !== null) {
      this.openFiles--;
      await handle.close();
      await this.copyAlreadyRead(reader, path, opened, nowMs);
      return;
    }
    if (this.isCopyOfActive(head, opened)) {
      this.logger.debug("file looks like a copy of one being read; held back", { path });
      this.shadows.set(inodeKey, { path, handle, head, size: opened.size, changedMs: nowMs });
      return;
    }
    let generation = 0;
    if (known !== undefined) {
      // The checkpoint knew this inode, but its content is not what was read: replaced or truncated.
      generation = known.generation + 1;
      this.logger.info("file was truncated or replaced while not followed; reading it from the start", { path });
    }
    const size = opened.size;
    let offset = 0;
    if (startup && !this.options.fromBeginning && source.startAt === "end") offset = await lastLineEnd(handle, size);
    const lastBytes = await readAt(handle, Math.max(0, offset - MARKER_BYTES), Math.min(offset, MARKER_BYTES));
    const stream = new FileStream({
      source,
      key: null,
      generation,
      pathLabel: path,
      currentPath: path,
      device: opened.dev,
      inode: opened.ino,
      state: "active",
      head,
      offset,
      lastBytes,
      nowMs,
    });
    stream.handle = handle;
    stream.sizeSeen = size;
    this.ensureKey(stream);
    const spooledEnd = stream.key === null ? undefined : this.options.spooled?.get(stream.key);
    if (spooledEnd !== undefined && spooledEnd > offset && this.byKey(stream.key as string) === undefined) {
      // Read before a crash and spooled, but not yet checkpointed: the spool holds those lines.
      const resumed = new FileStream({ ...streamInit(stream, nowMs), offset: spooledEnd, lastBytes: await readAt(handle, Math.max(0, spooledEnd - MARKER_BYTES), Math.min(spooledEnd, MARKER_BYTES)) });
      resumed.handle = handle;
      this.addStream(resumed);
      this.checkpointDirty = true;
      this.logger.info("tailing file after its spooled lines", { path, source: source.name, offset: spooledEnd });
      return;
    }
    this.addStream(stream);
    this.checkpointDirty = true;
    this.logger.info("tailing file", { path, source: source.name, offset });
  }

  /** A file already followed was reported again (a change, a rescan, or its new name after a rename). */
  private seenAgain(stream: FileStream, path: string, stats: Stats, nowMs: number): void {
    if (path !== stream.currentPath && this.discovery.ruleFor(path) !== null) stream.currentPath = path;
    if (stream.state === "draining" && this.discovery.ruleFor(path) !== null && stats.nlink > 0) {
      this.setState(stream, "active", nowMs);
    }
    if (stats.size !== stream.readOffset) {
      stream.mayHaveData = true;
      this.statSchedule.reset(stream, nowMs);
    }
    stream.sizeSeen = stats.size;
    if (stream.state === "idle" && stats.size > stream.readOffset) void this.reopen(stream, path);
  }

  /**
   * Does this file continue a stream that lost its file — a detached stream
   * (copytruncate's copy) or an orphan from the checkpoint (restart)? If so,
   * the stream takes the file and goes on from where it was.
   */
  private async adopt(handle: FileHandle, stats: Stats, head: Buffer, path: string, sameInode: FileStream | undefined, nowMs: number): Promise<FileStream | null> {
    const candidates: FileStream[] = [];
    if (sameInode !== undefined) candidates.push(sameInode);
    for (const stream of this.lost) {
      if (stream !== sameInode) candidates.push(stream);
    }
    for (const stream of candidates) {
      if (!(await this.continues(stream, handle, stats, head))) continue;
      if (this.byInode.get(stream.inodeKey) === stream) this.byInode.delete(stream.inodeKey);
      stream.device = stats.dev;
      stream.inode = stats.ino;
      stream.currentPath = path;
      stream.handle = handle;
      stream.head = head;
      this.heads.add(stream);
      stream.headHash = null;
      stream.markerHash = null;
      stream.mayHaveData = true;
      if (stream.lastBytes.length === 0 && stream.readOffset > 0) {
        stream.lastBytes = await readAt(handle, Math.max(0, stream.readOffset - MARKER_BYTES), Math.min(stream.readOffset, MARKER_BYTES));
      }
      this.setState(stream, "active", nowMs);
      this.byInode.set(stream.inodeKey, stream);
      this.ensureKey(stream);
      this.checkpointDirty = true;
      this.logger.info("following file from saved position", { path, first_path: stream.pathLabel, offset: stream.readOffset });
      return stream;
    }
    return null;
  }

  /** True when the file holds the stream's bytes: same head, and the bytes before its offset match. */
  private async continues(stream: FileStream, handle: FileHandle, stats: Stats, head: Buffer): Promise<boolean> {
    if (stats.size < stream.readOffset) return false;
    if (stream.headHash !== null) {
      if (head.length < stream.headHash.bytes) return false;
      if (hashBytes(head.subarray(0, stream.headHash.bytes)) !== stream.headHash.hash) return false;
    } else if (!samePrefix(stream.head, head) || head.length < Math.min(stream.head.length, stream.readOffset)) {
      return false;
    }
    if (stream.markerHash !== null) {
      const marker = stream.markerHash;
      const bytes = await readAt(handle, marker.offset - marker.bytes, marker.bytes);
      return hashBytes(bytes) === marker.hash;
    }
    const before = await readAt(handle, stream.readOffset - stream.lastBytes.length, stream.lastBytes.length);
    return before.equals(stream.lastBytes);
  }

  /**
   * The truncated (detached) stream whose rotated copy this is, when the copy
   * holds nothing it has not read: same head, no longer than the stream's
   * read offset. The copy is complete (logrotate truncates after copying);
   * the lines between its end and the read offset were written between the
   * copy and the truncate, read from the live file and lost by the rotation.
   */
  private readerOfCopy(head: Buffer, stats: Stats): FileStream | null {
    for (const stream of this.lost) {
      if (stream.state !== "detached") continue;
      if (stats.size <= stream.readOffset && samePrefix(stream.head, head)) return stream;
    }
    return null;
  }

  /** A rotated copy of `reader` with nothing unread: not tailed, and the truncated stream is finished. */
  private async copyAlreadyRead(reader: FileStream, path: string, stats: Stats, nowMs: number): Promise<void> {
    this.ignoredCopies.set(`${stats.dev}:${stats.ino}`, copySignature(stats));
    this.logger.info("rotated copy holds nothing unread; not tailed", { path, first_path: reader.pathLabel, copy_bytes: stats.size, read_offset: reader.readOffset });
    await this.finish(reader, nowMs);
  }

  /** A new inode whose head equals an open file's: a copy being made (copytruncate). */
  private isCopyOfActive(head: Buffer, stats: Stats): boolean {
    for (const stream of this.heads.candidates(head)) {
      if (stream.handle === null || stream.state === "orphan") continue;
      if (stream.device === stats.dev && stream.inode === stats.ino) continue;
      if (samePrefix(stream.head, head)) return true;
    }
    return false;
  }

  private async reopen(stream: FileStream, path: string): Promise<void> {
    if (stream.handle !== null || this.openFiles >= this.options.tail.openFilesMax) return;
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      this.logger.warn("cannot reopen file", { path, error: (error as Error).message });
      return;
    }
    const stats = await handle.stat();
    if (stats.dev !== stream.device || stats.ino !== stream.inode || stream.handle !== null) {
      await handle.close();
      return;
    }
    const head = await readAt(handle, 0, this.options.tail.fingerprintBytes);
    if (!samePrefix(stream.head, head) || stats.size < stream.readOffset) {
      // The inode now holds another file (deleted and reused): that one is new.
      await handle.close();
      this.logger.info("inode reused by a new file; following it as new", { path });
      this.setState(stream, "done", Date.now());
      if (this.byInode.get(stream.inodeKey) === stream) this.byInode.delete(stream.inodeKey);
      this.pending.set(path, stream.source.name);
      return;
    }
    this.openFiles++;
    stream.handle = handle;
    stream.mayHaveData = true;
    this.setState(stream, "active", Date.now());
    this.wake();
  }

  private byKey(key: string): FileStream | undefined {
    for (const stream of this.streams) if (stream.key === key) return stream;
    return undefined;
  }

  private addStream(stream: FileStream): void {
    this.streams.add(stream);
    this.byInode.set(stream.inodeKey, stream);
    if (isLost(stream.state)) this.lost.add(stream);
    this.heads.add(stream);
    this.statSchedule.reset(stream, Date.now());
  }

  /** Every state change goes through here: the lost set follows it, and housekeeping looks at the stream again soon. */
  private setState(stream: FileStream, state: StreamState, nowMs: number): void {
    stream.setState(state, nowMs);
    if (isLost(state)) this.lost.add(stream);
    else this.lost.delete(stream);
    if (this.streams.has(stream)) this.statSchedule.reset(stream, nowMs);
  }

  /**
   * The stream key needs the first line; until the file has one the key
   * waits. `force`: a partial first line is being let go (end of --once, file
   * deleted), so what there is must do.
   */
  private ensureKey(stream: FileStream, force = false): void {
    if (stream.key !== null) return;
    const bytesMax = Math.min(this.options.tail.fingerprintBytes, stream.source.lineBytesMax);
    const material = keyHead(stream.head, bytesMax);
    if (material.length === 0 || (!force && material.at(-1) !== 0x0a && material.length < bytesMax)) return;
    stream.key = streamKey({ host: this.options.host, device: stream.device, inode: stream.inode, generation: stream.generation, head: material });
  }

  // ---- reading ----------------------------------------------------------

  /** Read up to one pass's budget from the stream's file and send what it makes. Returns bytes read. */
  private async readOnce(stream: FileStream): Promise<number> {
    const handle = stream.handle as FileHandle;
    const budget = this.options.tail.readBytesPerPass;
    // Buffer layout: [carried partial line][new bytes]. The marker (the bytes
    // just before the read offset, the carry's tail when there is one) is
    // read again from the file in the same read and compared: a file that no
    // longer holds them was truncated or rewritten.
    const carried = stream.splitter.carried;
    const markerLength = stream.lastBytes.length;
    const lead = Math.max(carried.length, markerLength);
    // Read what the file is known to hold (a small file gets a small buffer,
    // not one pinned at the full budget until its batch is built), else a
    // full budget.
    const want = stream.sizeSeen > stream.readOffset ? Math.min(budget, stream.sizeSeen - stream.readOffset) : budget;
    const pooled = lead + want > SMALL_READ_BYTES;
    const buffer = pooled ? this.readBuffers.acquire(lead + want) : Buffer.allocUnsafe(lead + want);
    const release = pooled ? (): void => this.readBuffers.release(buffer) : noRelease;
    if (carried.length > markerLength) carried.copy(buffer, 0, 0, carried.length - markerLength);
    let filled = lead - markerLength;
    const end = lead + want;
    while (filled < end) {
      const { bytesRead } = await handle.read(buffer, filled, end - filled, stream.readOffset - lead + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled < lead || !buffer.subarray(lead - markerLength, lead).equals(stream.lastBytes)) {
      release();
      await this.truncated(stream);
      return 0;
    }
    const chunk = buffer.subarray(lead, filled);
    stream.mayHaveData = chunk.length === want;
    // It held at least what was known: it may hold more, read a full budget next.
    if (chunk.length === want) stream.sizeSeen = 0;
    if (chunk.length === 0) {
      release();
      return 0;
    }
    // The marker alone can match new content (lines with a common ending, one
    // ending at the offset): a file truncated and written past the offset
    // since the last read also shows another head. Read after the chunk, so a
    // truncation at any moment before is seen and the chunk is not used.
    // Read synchronously: a round trip through the thread pool per pass was
    // time the tailer sat idle (issue 11's note).
    if (stream.readOffset > 0 && stream.head.length > 0 && !fileStartsWith(handle.fd, stream.head)) {
      release();
      await this.truncated(stream);
      return 0;
    }
    const nowMs = Date.now();
    stream.lastGrowthMs = nowMs;
    this.statSchedule.reset(stream, nowMs);
    if (stream.head.length < this.options.tail.fingerprintBytes && stream.readOffset < this.options.tail.fingerprintBytes) {
      stream.head = await readAt(handle, 0, this.options.tail.fingerprintBytes);
      this.heads.add(stream);
    }
    this.ensureKey(stream);
    stream.advanceRead(chunk);
    const run = stream.splitter.pushWithCarry(buffer, lead - carried.length, filled);
    // Once per read, not per line: the metrics' read totals.
    this.bytesRead += chunk.length;
    this.linesRead += run.starts.length;
    const decoded = stream.decoder.decode(run, nowMs);
    if (stream.decoder.heldOffset !== null) this.holding.add(stream);
    // Raw lines and verbatim messages (DecodedEvents.verbatim) are the buffer's bytes: it goes back once the output copied them.
    if (decoded.count === 0) release();
    await this.emit(stream, decoded, run.consumedOffset, nowMs, decoded.count === 0 ? noRelease : release);
    return chunk.length;
  }

  /** Hand decoded events to the output; `consumedOffset` is how far the file is accounted for. */
  private async emit(stream: FileStream, input: Decoded, consumedOffset: number, nowMs: number, release: () => void = noRelease): Promise<void> {
    const transforms = stream.source.transforms;
    const decoded = transforms === null ? input : applyTransforms(input, transforms, this.transformContext(stream), nowMs);
    const held = stream.decoder.heldOffset;
    const endOffset = held === null ? consumedOffset : Math.min(held, consumedOffset);
    if (decoded.count === 0) {
      release();
      // Bytes accounted for without an event (joined into a held event, a cut line's skipped rest, or dropped by a transform).
      if (endOffset > stream.acks.trackedOffset) stream.acks.track(endOffset)();
      this.checkpointDirty = true;
      return;
    }
    if (stream.key === null) {
      // A first line exists (an event was made), so the key can be made now.
      stream.head = stream.handle === null ? stream.head : await readAt(stream.handle, 0, this.options.tail.fingerprintBytes);
      this.heads.add(stream);
      this.ensureKey(stream, true);
      if (stream.key === null) throw new Error("assertion failed: stream key after first event");
    }
    const block: EventBlock = {
      stream: this.streamInfo(stream),
      observedMs: nowMs,
      endOffset,
      count: decoded.count,
      lines: decoded.lines,
      decoded: decoded.decoded,
      truncated: decoded.truncated,
      ack: this.acknowledger(stream.acks.track(endOffset)),
      release,
    };
    this.checkpointDirty = true;
    await this.options.output.send(block);
  }

  private readonly infos = new WeakMap<FileStream, StreamInfo>();
  private streamInfo(stream: FileStream): StreamInfo {
    let info = this.infos.get(stream);
    if (info === undefined) {
      // With transforms, what the chain says (its stream-level values, and the static fields unless each event carries them).
      const transforms = stream.source.transforms;
      const fields = transforms === null ? stream.source.fields : transforms.streamFields({ host: this.options.host, source: stream.source.name, path: stream.pathLabel }, stream.source.fields);
      info = { key: stream.key as string, source: stream.source.name, path: stream.pathLabel, host: this.options.host, fields };
      this.infos.set(stream, info);
    }
    return info;
  }

  private transformContext(stream: FileStream): TransformContext {
    return { host: this.options.host, source: stream.source.name, path: stream.pathLabel, staticFields: stream.source.fields };
  }

  private async flushTimedOut(nowMs: number): Promise<void> {
    for (const stream of this.holding) {
      const timeout = stream.decoder.msUntilTimeout(nowMs);
      if (timeout === null) this.holding.delete(stream);
      if (timeout === null || timeout > 0) continue;
      const decoded = stream.decoder.flush(nowMs, false);
      if (decoded !== null) await this.emit(stream, decoded, stream.splitter.pendingOffset, nowMs);
    }
  }

  /** End of the road for a stream's bytes: the partial last line and a held multiline event go out. */
  private async flushStream(stream: FileStream, nowMs: number): Promise<void> {
    const tail = stream.splitter.flush();
    if (tail !== null) this.linesRead += tail.starts.length;
    if (tail !== null) await this.emit(stream, stream.decoder.raw ? rawLines(tail) : stream.decoder.decode(tail, nowMs), tail.consumedOffset, nowMs);
    const held = stream.decoder.flush(nowMs, true);
    if (held !== null) await this.emit(stream, held, stream.splitter.pendingOffset, nowMs);
  }

  private async flushAll(): Promise<void> {
    const nowMs = Date.now();
    for (const stream of this.streams) await this.flushStream(stream, nowMs);
  }

  // ---- rotation and housekeeping -----------------------------------------

  /** The stream's file no longer holds its bytes at its offset: copytruncate or a rewrite. */
  private async truncated(stream: FileStream): Promise<void> {
    const handle = stream.handle as FileHandle;
    const nowMs = Date.now();
    this.logger.info("file truncated; its unread rest is looked for in a rotated copy", { path: stream.currentPath, offset: stream.readOffset });
    stream.handle = null;
    this.setState(stream, "detached", nowMs);
    this.byInode.delete(stream.inodeKey);
    const stats = await handle.stat();
    const head = await readAt(handle, 0, this.options.tail.fingerprintBytes);
    const fresh = new FileStream({
      source: stream.source,
      key: null,
      generation: stream.generation + 1,
      pathLabel: stream.currentPath,
      currentPath: stream.currentPath,
      device: stats.dev,
      inode: stats.ino,
      state: "active",
      head,
      offset: 0,
      lastBytes: Buffer.alloc(0),
      nowMs,
    });
    fresh.handle = handle;
    this.ensureKey(fresh);
    this.addStream(fresh);
    this.checkpointDirty = true;
    // The copy may already be held back: try it now, before logrotate moves it on.
    await this.adoptShadows(nowMs);
  }

  /** Give detached streams their copies; let go of copies that were never needed. */
  private async adoptShadows(nowMs: number): Promise<void> {
    for (const [inodeKey, shadow] of [...this.shadows]) {
      const stats = await shadow.handle.stat();
      if (stats.size !== shadow.size) {
        shadow.size = stats.size;
        shadow.changedMs = nowMs;
        shadow.head = await readAt(shadow.handle, 0, this.options.tail.fingerprintBytes);
      }
      if ((await this.adopt(shadow.handle, stats, shadow.head, shadow.path, undefined, nowMs)) !== null) {
        this.shadows.delete(inodeKey);
        continue;
      }
      const reader = this.readerOfCopy(shadow.head, stats);
      if (reader !== null) {
        this.shadows.delete(inodeKey);
        this.openFiles--;
        await shadow.handle.close();
        await this.copyAlreadyRead(reader, shadow.path, stats, nowMs);
        continue;
      }
      if (nowMs - shadow.changedMs >= this.options.tail.rotateWaitMs) {
        this.shadows.delete(inodeKey);
        this.openFiles--;
        await shadow.handle.close();
        if (stats.nlink > 0 && this.isCopyOfActive(shadow.head, stats)) {
          this.ignoredCopies.set(inodeKey, copySignature(stats));
          this.logger.info("file is a copy of one being read; not tailed", { path: shadow.path });
        } else {
          const rule = this.discovery.ruleFor(shadow.path);
          if (rule !== null) this.pending.set(shadow.path, rule);
          else this.logger.debug("held-back file matches no tail rule any more; not tailed", { path: shadow.path });
        }
      }
    }
  }

  /** Every `statIntervalMs`: files held open while empty or as copies, and files waiting for a slot. */
  private async checkHeldFiles(nowMs: number): Promise<void> {
    const tail = this.options.tail;
    for (const [inodeKey, empty] of [...this.empties]) {
      const stats = await empty.handle.stat();
      if (stats.size > 0) {
        await this.fillEmpty(inodeKey, empty);
      } else if (stats.nlink === 0 || nowMs - empty.sinceMs >= tail.closeInactiveMs) {
        // Deleted, or empty for close_inactive: let go; found again (and held) once it changes.
        this.empties.delete(inodeKey);
        this.openFiles--;
        await empty.handle.close();
        if (stats.nlink > 0) this.ignoredCopies.set(inodeKey, copySignature(stats));
      }
    }
    await this.adoptShadows(nowMs);
    for (const [path, source] of this.waiting) {
      if (this.openFiles + this.pending.size >= tail.openFilesMax) break;
      this.waiting.delete(path);
      this.pending.set(path, source);
    }
  }

  /** The streams whose turn came (StatSchedule): each is looked at, then scheduled again, later when it showed no change. */
  private async checkDueStreams(nowMs: number): Promise<void> {
    for (const stream of this.statSchedule.takeDue(nowMs)) {
      if (!this.streams.has(stream)) continue;
      const quiet = await this.checkStream(stream, nowMs);
      if (stream.state === "done" && stream.acks.inFlight === 0) this.dropStream(stream);
      if (!this.streams.has(stream)) continue;
      // From now, not from the pass's start: a long pass must not leave its streams due again at once.
      if (quiet) this.statSchedule.backOff(stream, Date.now());
      else this.statSchedule.reset(stream, Date.now());
    }
  }

  /**
   * Housekeeping of one stream whose turn came: stat its open file (growth,
   * truncation, deletion), apply its state's timeouts. Returns true when
   * nothing changed and nothing is pending, so its next turn may wait longer
   * (an open file that did not change, an idle or orphan stream, whose
   * timeouts are minutes).
   */
  private async checkStream(stream: FileStream, nowMs: number): Promise<boolean> {
    const tail = this.options.tail;
    if (stream.handle !== null) {
      let stats: Stats;
      this.filePolls++;
      try {
        stats = await stream.handle.stat();
      } catch (error) {
        this.logger.warn("cannot stat open file", { path: stream.currentPath, error: (error as Error).message });
        return false;
      }
      if (stats.size < stream.readOffset) {
        await this.truncated(stream);
        return false;
      }
      if (stats.size > stream.readOffset) {
        stream.mayHaveData = true;
        stream.sizeSeen = stats.size;
        return false;
      }
      if (stats.nlink === 0 && stream.state === "active") {
        this.setState(stream, "draining", nowMs);
        this.logger.info("file deleted; draining it before letting go", { path: stream.currentPath });
      }
      const quietMs = nowMs - stream.lastGrowthMs;
      if (stream.state === "draining" && quietMs >= (stats.nlink === 0 ? 0 : tail.rotateWaitMs)) {
        await this.finish(stream, nowMs);
      } else if (stream.state === "active" && quietMs >= tail.closeInactiveMs) {
        await this.closeHandle(stream);
        this.setState(stream, "idle", nowMs);
        this.logger.debug("closed inactive file", { path: stream.currentPath });
      }
      return stream.state === "active" || stream.state === "idle";
    }
    if (stream.state === "detached" && nowMs - stream.stateSinceMs >= tail.rotateWaitMs) {
      this.logger.warn("no rotated copy found for truncated file; its unread rest is lost", { path: stream.currentPath, offset: stream.readOffset });
      await this.finish(stream, nowMs);
    } else if (stream.state === "orphan" && nowMs - this.startedMs >= tail.closeInactiveMs) {
      this.dropStream(stream);
    }
    return stream.state === "idle" || stream.state === "orphan";
  }

  /** Is the stream's file still where a rule can see it (its last path)? */
  private async reachable(stream: FileStream): Promise<boolean> {
    try {
      const stats = await stat(stream.currentPath);
      return stats.dev === stream.device && stats.ino === stream.inode;
    } catch {
      // ENOENT or other: the path no longer leads to this file; a rescan may find its new name.
      return false;
    }
  }

  /**
   * At each rescan: an open file no longer reachable at its last path (renamed
   * out of every rule, or deleted) drains; an idle (closed) file that grew is
   * reopened.
   */
  private async checkIdle(): Promise<void> {
    const nowMs = Date.now();
    for (const stream of this.streams) {
      if (stream.state === "active" && stream.handle !== null && !(await this.reachable(stream))) {
        this.setState(stream, "draining", nowMs);
        continue;
      }
      if (stream.state !== "idle") continue;
      try {
        const stats = await stat(stream.currentPath);
        if (stats.dev === stream.device && stats.ino === stream.inode && stats.size > stream.readOffset) await this.reopen(stream, stream.currentPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.logger.warn("cannot stat file", { path: stream.currentPath, error: (error as Error).message });
      }
    }
  }

  private async finish(stream: FileStream, nowMs: number): Promise<void> {
    await this.flushStream(stream, nowMs);
    await this.closeHandle(stream);
    this.setState(stream, "done", nowMs);
    if (this.byInode.get(stream.inodeKey) === stream) this.byInode.delete(stream.inodeKey);
    this.checkpointDirty = true;
  }

  private dropStream(stream: FileStream): void {
    this.streams.delete(stream);
    this.lost.delete(stream);
    this.heads.delete(stream);
    this.holding.delete(stream);
    this.statSchedule.delete(stream);
    if (this.byInode.get(stream.inodeKey) === stream) this.byInode.delete(stream.inodeKey);
    this.checkpointMarkers.delete(stream);
    this.checkpointDirty = true;
  }

  private async closeHandle(stream: FileStream): Promise<void> {
    const handle = stream.handle;
    if (handle === null) return;
    stream.handle = null;
    this.openFiles--;
    await handle.close();
  }

  // ---- checkpoints --------------------------------------------------------

  private async restore(): Promise<void> {
    const entries = await this.options.checkpoints.load();
    const nowMs = Date.now();
    for (const entry of entries) {
      const source = this.sources.get(entry.source);
      if (source === undefined) {
        this.logger.info("checkpoint names a source no longer configured; forgetting it", { source: entry.source, path: entry.path });
        continue;
      }
      const spooledEnd = this.options.spooled?.get(entry.key);
      const resumeOffset = spooledEnd !== undefined && spooledEnd > entry.offset ? spooledEnd : entry.offset;
      // Acknowledged before the restart, after the checkpoint was written.
      const deliveredEnd = this.options.delivered?.get(entry.key);
      const ackedOffset = deliveredEnd !== undefined && deliveredEnd > entry.offset ? Math.min(deliveredEnd, resumeOffset) : entry.offset;
      const stream = new FileStream({
        source,
        key: entry.key,
        generation: entry.generation,
        pathLabel: entry.path,
        currentPath: entry.path,
        device: entry.device,
        inode: entry.inode,
        state: "orphan",
        head: Buffer.alloc(0),
        offset: resumeOffset,
        ackedOffset,
        lastBytes: Buffer.alloc(0),
        nowMs,
      });
      stream.headHash = { bytes: entry.head_bytes, hash: entry.head_hash };
      stream.markerHash = { bytes: entry.marker_bytes, hash: entry.marker_hash, offset: entry.offset };
      if (resumeOffset > ackedOffset) this.spooledAcks.set(entry.key, this.acknowledger(stream.acks.track(resumeOffset)));
      this.addStream(stream);
    }
  }

  /** Write every stream's acknowledged offset (temp → fsync → rename), when something moved. */
  private async saveCheckpoint(): Promise<void> {
    if (!this.checkpointDirty) return;
    this.checkpointDirty = false;
    const entries: CheckpointEntry[] = [];
    for (const stream of this.streams) {
      if (stream.key === null) continue;
      if (stream.state === "done" && stream.acks.inFlight === 0) continue;
      const offset = stream.acks.ackedOffset;
      const marker = await this.markerFor(stream, offset);
      const headBytes = stream.headHash?.bytes ?? stream.head.length;
      entries.push({
        key: stream.key,
        source: stream.source.name,
        path: stream.pathLabel,
        device: stream.device,
        inode: stream.inode,
        generation: stream.generation,
        offset,
        head_bytes: headBytes,
        head_hash: stream.headHash?.hash ?? hashBytes(stream.head),
        marker_bytes: marker.bytes,
        marker_hash: marker.hash,
      });
    }
    await this.options.checkpoints.save(entries);
  }

  /** Hash of the bytes just before `offset`, read from the open file (or remembered). */
  private async markerFor(stream: FileStream, offset: number): Promise<{ bytes: number; hash: string }> {
    const cached = this.checkpointMarkers.get(stream);
    if (cached !== undefined && cached.offset === offset) return cached;
    if (stream.markerHash !== null && offset === stream.markerHash.offset && stream.handle === null) return stream.markerHash;
    const bytes = Math.min(MARKER_BYTES, offset);
    let marker = { offset, bytes: 0, hash: hashBytes(Buffer.alloc(0)) };
    if (stream.handle !== null) {
      const before = await readAt(stream.handle, offset - bytes, bytes);
      marker = { offset, bytes: before.length, hash: hashBytes(before) };
    }
    this.checkpointMarkers.set(stream, marker);
    return marker;
  }
}

function streamInit(stream: FileStream, nowMs: number): ConstructorParameters<typeof FileStream>[0] {
  return {
    source: stream.source,
    key: stream.key,
    generation: stream.generation,
    pathLabel: stream.pathLabel,
    currentPath: stream.currentPath,
    device: stream.device,
    inode: stream.inode,
    state: stream.state,
    head: stream.head,
    offset: stream.readOffset,
    lastBytes: stream.lastBytes,
    nowMs,
  };
}

interface EmptyFile {
  path: string;
  source: string;
  handle: FileHandle;
  sinceMs: number;
}

interface Shadow {
  path: string;
  handle: FileHandle;
  head: Buffer;
  size: number;
  changedMs: number;
}

/** What an ignored copy looks like while it stays the same file. */
function copySignature(stats: Stats): string {
  return `${stats.size}:${stats.mtimeMs}`;
}

/** Offset just past the last newline before `size` (start_at: end begins at a line start). */
async function lastLineEnd(handle: FileHandle, size: number): Promise<number> {
  const windowBytes = 64 * 1024;
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - windowBytes);
    const bytes = await readAt(handle, start, end - start);
    const newline = bytes.lastIndexOf(0x0a);
    if (newline !== -1) return start + newline + 1;
    end = start;
  }
  return 0;
}

/** A stream without its file, that a file found later may continue (adopt). */
function isLost(state: StreamState): boolean {
  return state === "detached" || state === "orphan";
}
