/**
 * Crash acceptance (issue 2): the agent is SIGKILLed at random moments at
 * least 20 times during a run; after each restart the union of acknowledged
 * events has no gap and no duplicate.
 *
 * The agent is a real process (test/helpers/acking-agent.ts): the real
 * tailer, the real FileCheckpointStore, and a durable sink that acknowledges
 * a block only after appending it to a file and fdatasync'ing it, with a
 * random latency before the write and before the acknowledgement (so a kill
 * finds blocks in flight, and acknowledgements come out of order). Writers in
 * this process append numbered lines, in bursts, to three files while the
 * agent is killed and restarted: `a.log` (fast, rotated by rename twice, with
 * lines still written to the renamed file after each rotation), `b.log`
 * (fast) and `c.log` (slow). Each run is SIGKILLed a random 50–400 ms after
 * it reports ready (config loaded, sink recovered, tailer started: the kill
 * lands in restore, catch-up, steady tailing or a checkpoint write). A final
 * run catches up and is stopped with SIGTERM.
 *
 * Checked on the sink file:
 * - every line is a whole event, except possibly a torn last line (dropped:
 *   it was never acknowledged);
 * - every written line of every file is there (no gap), with the right
 *   message and offset;
 * - one id per line and one line per id (ids are deterministic across
 *   restarts), so deduplicating by id gives each line exactly once;
 * - per restart: the checkpoint the agent starts from never passes an
 *   undelivered line, each run delivers each file contiguously from its
 *   checkpoint offset (0 for a file the checkpoint does not know yet), and
 *   nothing is delivered twice within one run. Re-deliveries across runs
 *   (durable in the sink but not yet in a checkpoint when the kill came) are
 *   at-least-once behaviour: counted and reported, not a failure — but they
 *   must be exactly a run's first events of a file, starting at its
 *   checkpoint;
 * - after the final SIGTERM, the checkpoint is at the end of every file.
 *
 * Replay: LOGSHIP_CRASH_SEED=<seed> (printed as a diagnostic) repeats the kill
 * delays; LOGSHIP_CRASH_KILLS sets the number of kills (default 24);
 * LOGSHIP_CRASH_KEEP=1 keeps the scratch directory (it is always kept on
 * failure, with each run's agent log).
 */
import { test } from "node:test";
import { seededRandom } from "../../shared/random.ts";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckpointEntry } from "../../agent/tail/checkpoint.ts";
import type { Event } from "../../shared/event.ts";
import { cleanups } from "../helpers/cleanups.ts";

const HELPER = fileURLToPath(new URL("../helpers/acking-agent.ts", import.meta.url));
const KILLS = Number(process.env.LOGSHIP_CRASH_KILLS ?? 24);
const KILL_DELAY_MS = { min: 50, max: 400 };
/** First guess of a kill cycle's length (start + delay + exit); the writers pace themselves on the measured mean, so the writing spans all the kills. */
const CYCLE_GUESS_MS = 600;
const WRITE_TICK_MS = 15;
/** Share of write ticks that write (catching up to the pace): bursts keep the agent busy for a while, so kills land mid-delivery too. */
const WRITE_TICK_SHARE = 0.25;
const CATCH_UP_TIMEOUT_MS = 40_000;
/** The final run has stopped delivering (lines are missing for good): stop waiting and report. */
const CATCH_UP_STALL_MS = 5_000;
/** The sink writes each block 0..this many ms after it is sent, and acknowledges it 0..this many ms after its fsync (a collector's round trip): a kill finds blocks in flight, and acks come out of order. */
const SINK_LATENCY_MAX_MS = 20;

interface FileSpec {
  name: string;
  lines: number;
  /** Fractions of the run at which the file is rotated (rename, then create). */
  rotateAt: number[];
}

const FILES: FileSpec[] = [
  { name: "a", lines: 33_000, rotateAt: [0.35, 0.7] },
  { name: "b", lines: 26_400, rotateAt: [] },
  { name: "c", lines: 600, rotateAt: [] },
];
const LINES_AFTER_RENAME = 7;

const prng = seededRandom;

/** `promise`, or null after `ms` (the timer is cleared either way, so it does not hold the process). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function lineText(fileIndex: number, name: string, seq: number): string {
  return `${name} ${String(seq).padStart(6, "0")} ${"x".repeat((seq * 7 + fileIndex * 13) % 61)}`;
}
const LINE_PATTERN = /^([a-z]) (\d{6}) x*$/;

/** One inode a file's lines went to (a rotated file is a second physical file). */
interface PhysicalFile {
  name: string;
  inode: number;
  device: number;
  firstSeq: number;
  endSeq: number;
  size: number;
}

class Writer {
  readonly spec: FileSpec;
  readonly index: number;
  readonly path: string;
  readonly physical: PhysicalFile[];
  /** Per line: index into `physical`, and its byte offset there. */
  readonly physicalOf: Int32Array;
  readonly offsetOf: Float64Array;
  written = 0;
  rotations = 0;
  private fd: number;
  private current: PhysicalFile;

  constructor(dir: string, spec: FileSpec, index: number, physical: PhysicalFile[]) {
    this.spec = spec;
    this.index = index;
    this.path = join(dir, `${spec.name}.log`);
    this.physical = physical;
    this.physicalOf = new Int32Array(spec.lines).fill(-1);
    this.offsetOf = new Float64Array(spec.lines).fill(-1);
    this.fd = openSync(this.path, "a");
    this.current = this.newPhysical();
  }

  private newPhysical(): PhysicalFile {
    const stats = fstatSync(this.fd);
    const file: PhysicalFile = { name: this.spec.name, inode: stats.ino, device: stats.dev, firstSeq: this.written, endSeq: this.written, size: 0 };
    this.physical.push(file);
    return file;
  }

  /** Append lines up to `target` (exclusive) in one write. */
  writeUpTo(target: number): void {
    const end = Math.min(target, this.spec.lines);
    if (end <= this.written) return;
    const physicalIndex = this.physical.indexOf(this.current);
    let text = "";
    let offset = this.current.size;
    for (let seq = this.written; seq < end; seq++) {
      const line = lineText(this.index, this.spec.name, seq) + "\n";
      this.physicalOf[seq] = physicalIndex;
      this.offsetOf[seq] = offset;
      offset += Buffer.byteLength(line);
      text += line;
    }
    const data = Buffer.from(text);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done);
    this.current.size = offset;
    this.current.endSeq = end;
    this.written = end;
  }

  /** logrotate's `create` without copytruncate: x.log.1 → x.log.2, x.log → x.log.1; the writer goes on a little in the old file before reopening. */
  rotate(): void {
    if (existsSync(`${this.path}.1`)) renameSync(`${this.path}.1`, `${this.path}.2`);
    renameSync(this.path, `${this.path}.1`);
    this.writeUpTo(this.written + LINES_AFTER_RENAME);
    closeSync(this.fd);
    this.fd = openSync(this.path, "a");
    this.current = this.newPhysical();
    this.rotations++;
  }

  close(): void {
    closeSync(this.fd);
  }
}

interface Agent {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log: string;
}

/** Where each run's sink bytes begin, and the checkpoint it starts from. */
interface RunRecord {
  sinkStart: number;
  tornDropped: number;
  checkpoint: CheckpointEntry[];
  killDelayMs: number | null;
}

/** Where the sink's last whole line ends (what the next run keeps of it), and its size. */
function lastNewlineEnd(path: string): { end: number; size: number } {
  if (!existsSync(path)) return { end: 0, size: 0 };
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const window = 1024 * 1024;
    for (let end = size; end > 0; end = Math.max(0, end - window)) {
      const start = Math.max(0, end - window);
      const data = Buffer.allocUnsafe(end - start);
      const length = readSync(fd, data, 0, data.length, start);
      const newline = data.subarray(0, length).lastIndexOf(0x0a);
      if (newline !== -1) return { end: start + newline + 1, size };
    }
    return { end: 0, size };
  } finally {
    closeSync(fd);
  }
}

function readCheckpoint(dataDir: string): CheckpointEntry[] {
  const path = join(dataDir, "checkpoints.json");
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  let document: { version?: unknown; streams?: CheckpointEntry[] };
  try {
    document = JSON.parse(text) as typeof document;
  } catch (error) {
    throw new Error(`corrupt checkpoint after a kill: ${(error as Error).message}\n${text.slice(0, 500)}`);
  }
  assert.equal(document.version, 1, "checkpoint version");
  assert.ok(Array.isArray(document.streams), "checkpoint streams");
  return document.streams;
}

function tail(path: string, bytes = 3000): string {
  try {
    const text = readFileSync(path, "utf8");
    return text.slice(-bytes);
  } catch {
    return "";
  }
}

test("SIGKILLed at random moments 20+ times: the union of acknowledged events has no gap and no duplicate", { timeout: 180_000 }, async (t) => {
  assert.ok(KILLS >= 20, "the acceptance criterion asks for at least 20 kills");
  const startedMs = Date.now();
  const seed = process.env.LOGSHIP_CRASH_SEED !== undefined ? Number(process.env.LOGSHIP_CRASH_SEED) : randomInt(2 ** 31);
  t.diagnostic(`seed ${seed} (replay the kill delays with LOGSHIP_CRASH_SEED=${seed}), ${KILLS} kills`);
  const random = prng(seed);

  const dir = mkdtempSync(join(tmpdir(), "logship-crash-"));
  const logs = join(dir, "logs");
  const dataDir = join(dir, "data");
  const sink = join(dir, "sink.ndjson");
  const config = join(dir, "agent.yaml");
  mkdirSync(logs);
  mkdirSync(dataDir);
  writeFileSync(
    config,
    [
      `data_dir: ${JSON.stringify(dataDir)}`,
      "host: crash-host",
      "sources:",
      "  - name: crash",
      `    paths: [${JSON.stringify(join(logs, "*.log*"))}]`,
      "    start_at: beginning",
      "tail:",
      "  checkpoint_interval: 50ms",
      "  read_bytes_per_pass: 8KiB",
      "  rescan_interval: 200ms",
      "  rotate_wait: 1s",
      "",
    ].join("\n"),
  );

  let passed = false;
  const live = new Set<ChildProcess>();
  const defer = cleanups(t);
  defer(() => {
    for (const child of live) child.kill("SIGKILL");
    if (passed && process.env.LOGSHIP_CRASH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
    else t.diagnostic(`scratch directory kept: ${dir}`);
  });

  // ---- writers -------------------------------------------------------------
  const physical: PhysicalFile[] = [];
  const writers = FILES.map((spec, index) => new Writer(logs, spec, index, physical));
  const burst = prng(seed ^ 0x5bd1e995);
  const writeStartMs = Date.now();
  let cyclesDone = 0;
  let meanCycleMs = CYCLE_GUESS_MS;
  const progress = (): number => Math.min(1, (Date.now() - writeStartMs) / (meanCycleMs * KILLS));
  const writeTick = (fraction: number): void => {
    for (const writer of writers) {
      const rotateAt = writer.spec.rotateAt[writer.rotations];
      if (rotateAt !== undefined && fraction >= rotateAt) writer.rotate();
      writer.writeUpTo(Math.floor(writer.spec.lines * fraction));
    }
  };
  const writerTimer = setInterval(() => {
    if (burst() < WRITE_TICK_SHARE) writeTick(progress());
  }, WRITE_TICK_MS);
  defer(() => clearInterval(writerTimer));

  // ---- the agent process ---------------------------------------------------
  const runs: RunRecord[] = [];
  const agentLog = (run: number) => join(dir, `agent-${run}.log`);
  const startAgent = (run: number): Agent => {
    const { end, size } = lastNewlineEnd(sink);
    runs.push({ sinkStart: end, tornDropped: size - end, checkpoint: readCheckpoint(dataDir), killDelayMs: null });
    const logFd = openSync(agentLog(run), "w");
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [HELPER, "--config", config, "--sink", sink, "--latency-max", String(SINK_LATENCY_MAX_MS), "--log-level", "debug"], { stdio: ["ignore", "pipe", logFd], env });
    closeSync(logFd);
    live.add(child);
    const agent: Agent = { child, ready: Promise.resolve(), exited: Promise.resolve({ code: null, signal: null }), log: agentLog(run) };
    agent.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      });
    });
    agent.ready = new Promise((resolve, reject) => {
      let seen = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("ready\n")) resolve();
      });
      void agent.exited.then(({ code, signal }) => reject(new Error(`agent run ${run} exited before it was ready (code ${code}, signal ${signal}):\n${tail(agent.log)}`)));
    });
    return agent;
  };

  for (let run = 0; run < KILLS; run++) {
    const agent = startAgent(run);
    await agent.ready;
    const delayMs = KILL_DELAY_MS.min + Math.floor(random() * (KILL_DELAY_MS.max - KILL_DELAY_MS.min + 1));
    (runs[run] as RunRecord).killDelayMs = delayMs;
    const early = await within(agent.exited, delayMs);
    if (early !== null) assert.fail(`agent run ${run} exited by itself (code ${early.code}, signal ${early.signal}):\n${tail(agent.log)}`);
    agent.child.kill("SIGKILL");
    const { signal } = await agent.exited;
    appendFileSync(agent.log, `${new Date().toISOString()} TEST  SIGKILL ${delayMs} ms after ready\n`);
    assert.equal(signal, "SIGKILL", `run ${run} ended by SIGKILL`);
    cyclesDone = run + 1;
    meanCycleMs = (Date.now() - writeStartMs) / cyclesDone;
  }
  clearInterval(writerTimer);
  writeTick(1);
  for (const writer of writers) writer.close();
  const totalLines = writers.reduce((sum, writer) => sum + writer.written, 0);
  assert.equal(totalLines, FILES.reduce((sum, spec) => sum + spec.lines, 0));
  const killPhaseMs = Date.now() - startedMs;

  // ---- final run: catch up, then SIGTERM -------------------------------------
  const finalRun = KILLS;
  const agent = startAgent(finalRun);
  await agent.ready;
  // Poll the sink (from its start: lines delivered by earlier runs count too) until every line is there.
  const seen = new Set<string>();
  const sinkFd = openSync(sink, "r");
  let readUpTo = 0;
  const readNewLines = (): void => {
    const size = fstatSync(sinkFd).size;
    if (size <= readUpTo) return;
    const data = Buffer.allocUnsafe(size - readUpTo);
    const length = readSync(sinkFd, data, 0, data.length, readUpTo);
    const end = data.subarray(0, length).lastIndexOf(0x0a) + 1;
    let start = 0;
    while (start < end) {
      const newline = data.indexOf(0x0a, start);
      const match = /"message":"([a-z]) (\d{6}) /.exec(data.toString("utf8", start, Math.min(newline, start + 4096)));
      if (match !== null) seen.add(`${match[1]}:${Number(match[2])}`);
      start = newline + 1;
    }
    readUpTo += end;
  };
  const catchUpStartMs = Date.now();
  readNewLines();
  let grewMs = Date.now();
  while (seen.size < totalLines && Date.now() - catchUpStartMs < CATCH_UP_TIMEOUT_MS && Date.now() - grewMs < CATCH_UP_STALL_MS) {
    const exited = await within(agent.exited, 100);
    if (exited !== null) assert.fail(`final agent run exited by itself (code ${exited.code}, signal ${exited.signal}):\n${tail(agent.log)}`);
    const before = readUpTo;
    readNewLines();
    if (readUpTo > before) grewMs = Date.now();
  }
  closeSync(sinkFd);
  const catchUpMs = Date.now() - catchUpStartMs;
  agent.child.kill("SIGTERM");
  const stopped = await within(agent.exited, 15_000);
  assert.ok(stopped !== null, `final agent run did not stop within 15 s of SIGTERM:\n${tail(agent.log)}`);
  assert.equal(stopped.code, 0, `final agent run exit code after SIGTERM:\n${tail(agent.log)}`);
  // A graceful stop after everything is delivered leaves a checkpoint at the end of every file.
  const finalCheckpoint = readCheckpoint(dataDir);

  // ---- analysis --------------------------------------------------------------
  const data = readFileSync(sink);
  const tornLast = data.length > 0 && data[data.length - 1] !== 0x0a;
  const body = tornLast ? data.subarray(0, data.lastIndexOf(0x0a) + 1) : data;
  const byName = new Map(writers.map((writer) => [writer.spec.name, writer]));
  const problems: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < 40) problems.push(message);
  };
  const idByLine = new Map<string, string>();
  const lineById = new Map<string, string>();
  /** Per physical file: offsets of lines delivered by the runs before the current one. */
  const deliveredBefore = physical.map(() => new Set<number>());
  const everInCheckpoint = physical.map(() => false);
  let redelivered = 0;
  const redeliveredPerRun: number[] = [];
  let events = 0;

  const runEnds = runs.map((_, index) => (index + 1 < runs.length ? (runs[index + 1] as RunRecord).sinkStart : body.length));
  for (const [run, record] of runs.entries()) {
    // Where each physical file's delivery must begin in this run: its checkpoint offset.
    const startOffset = physical.map((): number | null => null);
    for (const entry of record.checkpoint) {
      const index = physical.findIndex((file) => file.inode === entry.inode && file.device === entry.device);
      if (index === -1) {
        problem(`run ${run}: checkpoint entry for an unknown file ${entry.path} (inode ${entry.inode})`);
        continue;
      }
      if (startOffset[index] !== null) problem(`run ${run}: two checkpoint entries for ${entry.path} (inode ${entry.inode})`);
      startOffset[index] = entry.offset;
      everInCheckpoint[index] = true;
      // The checkpoint never passes an undelivered line, and it sits on a line boundary.
      const file = physical[index] as PhysicalFile;
      const writer = byName.get(file.name) as Writer;
      let boundary = entry.offset === 0;
      for (let seq = file.firstSeq; seq < file.endSeq; seq++) {
        const offset = writer.offsetOf[seq] as number;
        if (offset >= entry.offset) break;
        if (!deliveredBefore[index]?.has(offset)) {
          problem(`run ${run}: the checkpoint of ${entry.path} is at ${entry.offset}, past line ${file.name}:${seq} (offset ${offset}) that no earlier run delivered`);
          break;
        }
        if (offset + Buffer.byteLength(lineText(writer.index, file.name, seq)) + 1 === entry.offset) boundary = true;
      }
      if (!boundary) problem(`run ${run}: the checkpoint of ${entry.path} is at ${entry.offset}, not at a line boundary`);
    }
    for (const [index] of physical.entries()) {
      if (startOffset[index] === null && !everInCheckpoint[index]) startOffset[index] = 0;
    }

    const nextOffset = [...startOffset];
    const freshSeen = physical.map(() => false);
    const seenThisRun = new Set<string>();
    let runRedelivered = 0;
    let position = record.sinkStart;
    const end = runEnds[run] as number;
    while (position < end) {
      const newline = body.indexOf(0x0a, position);
      const text = body.toString("utf8", position, newline);
      position = newline + 1;
      let event: Event;
      try {
        event = JSON.parse(text) as Event;
      } catch {
        problem(`run ${run}: a sink line that is not JSON (torn in the middle of the file?): ${text.slice(0, 200)}`);
        continue;
      }
      events++;
      const match = LINE_PATTERN.exec(event.message);
      const writer = match === null ? undefined : byName.get(match[1] as string);
      const seq = match === null ? -1 : Number(match[2]);
      if (match === null || writer === undefined || seq >= writer.written) {
        problem(`run ${run}: an event for a line never written: ${text.slice(0, 200)}`);
        continue;
      }
      const name = writer.spec.name;
      const line = `${name}:${seq}`;
      if (event.message !== lineText(writer.index, name, seq)) problem(`run ${run}: line ${line} has a damaged message ${JSON.stringify(event.message)}`);
      const physicalIndex = writer.physicalOf[seq] as number;
      const offset = writer.offsetOf[seq] as number;
      if (event.offset !== offset) problem(`run ${run}: line ${line} has offset ${event.offset}, it was written at ${offset}`);
      if (!event.path.startsWith(`${writer.path}`)) problem(`run ${run}: line ${line} has path ${event.path}`);
      // Ids: one per line, one line per id.
      const knownId = idByLine.get(line);
      if (knownId === undefined) idByLine.set(line, event.id);
      else if (knownId !== event.id) problem(`run ${run}: line ${line} came with two ids, ${knownId} and ${event.id}`);
      const knownLine = lineById.get(event.id);
      if (knownLine === undefined) lineById.set(event.id, line);
      else if (knownLine !== line) problem(`run ${run}: id ${event.id} is shared by lines ${knownLine} and ${line}`);
      // Within one run: each file delivered once, contiguously, from its checkpoint offset.
      if (seenThisRun.has(line)) problem(`run ${run}: line ${line} delivered twice within one run`);
      seenThisRun.add(line);
      const expected = nextOffset[physicalIndex];
      if (expected === null || expected === undefined) {
        problem(`run ${run}: line ${line} of a file the checkpoint had let go of (it was read again)`);
      } else if (offset !== expected) {
        problem(`run ${run}: line ${line} at offset ${offset} of ${name}#${physicalIndex}, expected the next delivery at ${expected}`);
      }
      nextOffset[physicalIndex] = offset + Buffer.byteLength(event.message) + 1;
      // Re-deliveries: only the run's first events of a file, right after its checkpoint.
      const set = deliveredBefore[physicalIndex] as Set<number>;
      if (set.has(offset)) {
        runRedelivered++;
        if (freshSeen[physicalIndex]) problem(`run ${run}: line ${line} re-delivered after new lines of the same file`);
      } else {
        freshSeen[physicalIndex] = true;
      }
    }
    // What this run delivered counts as delivered from now on.
    position = record.sinkStart;
    while (position < end) {
      const newline = body.indexOf(0x0a, position);
      const match = /"offset":(\d+),"message":"([a-z]) (\d{6}) /.exec(body.toString("utf8", position, Math.min(newline, position + 4096)));
      position = newline + 1;
      if (match === null) continue;
      const writer = byName.get(match[2] as string);
      const seq = Number(match[3]);
      if (writer === undefined || seq >= writer.written) continue;
      deliveredBefore[writer.physicalOf[seq] as number]?.add(writer.offsetOf[seq] as number);
    }
    redelivered += runRedelivered;
    redeliveredPerRun.push(runRedelivered);
  }

  // No gap: every written line of every file is there.
  let missing = 0;
  for (const writer of writers) {
    for (let seq = 0; seq < writer.written; seq++) {
      if (idByLine.has(`${writer.spec.name}:${seq}`)) continue;
      missing++;
      if (missing <= 10) problem(`line ${writer.spec.name}:${seq} (offset ${writer.offsetOf[seq]} of ${writer.spec.name}#${writer.physicalOf[seq]}) was never delivered`);
    }
  }
  if (missing > 10) problem(`... ${missing} lines never delivered in all`);
  for (const [index, file] of physical.entries()) {
    const entries = finalCheckpoint.filter((entry) => entry.inode === file.inode && entry.device === file.device);
    if (entries.length !== 1 || entries[0]?.offset !== file.size) {
      problem(`after SIGTERM: the checkpoint of ${file.name}#${index} (size ${file.size}) is ${JSON.stringify(entries.map((entry) => entry.offset))}`);
    }
  }

  const tornRuns = runs.filter((record) => record.tornDropped > 0).length;
  const delays = runs.flatMap((record) => (record.killDelayMs === null ? [] : [record.killDelayMs]));
  t.diagnostic(`${KILLS} SIGKILLs (delays ${Math.min(...delays)}–${Math.max(...delays)} ms after ready), then a final run stopped by SIGTERM`);
  t.diagnostic(`${totalLines} lines written to ${physical.length} files (a.log rotated ${writers[0]?.rotations} times); ${events} events in the sink, ${lineById.size} distinct ids`);
  t.diagnostic(`re-delivered (same id again: durable in the sink, not yet in a checkpoint when killed): ${redelivered} events; per run: ${redeliveredPerRun.join(" ")}`);
  t.diagnostic(`torn last sink lines cut by the next run: ${tornRuns}${tornLast ? " (+ a torn last line at the end)" : ""}`);
  t.diagnostic(`kill phase ${(killPhaseMs / 1000).toFixed(1)} s, catch-up ${(catchUpMs / 1000).toFixed(1)} s, total ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);

  assert.deepEqual(problems, [], `seed ${seed}: the union of acknowledged events is wrong (scratch: ${dir})`);
  assert.equal(lineById.size, totalLines, "deduplicated by id, each written line exactly once");
  passed = true;
});
