/**
 * Rotation with the real logrotate, in `create` and `copytruncate` modes,
 * forced every 200 ms while a writer appends 200,000 numbered lines. The rule
 * (`app.log*`, exclude `*.gz`) also matches the plain rotated copies, so every
 * copy must be recognised as the file already being read.
 *
 * At the end, every line that exists in the live file or a rotated copy
 * (app.log.1 plain, older copies gunzipped) must have come out exactly once,
 * in order per stream. Lines that exist in no file were lost by logrotate
 * itself (copytruncate: written between its copy and its truncate); they are
 * reported apart, and so are those of them the agent had read from the live
 * file before the truncate (it can only emit what it read).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { eventMessage, eventOffset, type BlockOutput, type EventBlock } from "../../agent/events.ts";
import { createLogger, silentLogger } from "../../shared/logger.ts";
import { startTailer, testSource, waitFor } from "../helpers/tail-harness.ts";
import { ensureLogrotate, forceRotations, writeLogrotateConfig, type RotateMode, type RotationRun } from "../helpers/logrotate.ts";
import { lineFor } from "./writer.ts";
import { cleanups } from "../helpers/cleanups.ts";

const LINES = 200_000;
const WRITE_MS = 12_000;
const ROTATE_EVERY_MS = 200;
const ROTATE_WAIT_MS = 3_000;
const WRITER = join(import.meta.dirname, "writer.ts");

interface Emitted {
  key: string;
  offset: number;
  message: string;
}

/** Acknowledges every block and keeps what the checks need: stream key, offset, message. */
class RecordingOutput implements BlockOutput {
  readonly events: Emitted[] = [];
  async send(block: EventBlock): Promise<void> {
    for (let index = 0; index < block.count; index++) {
      this.events.push({ key: block.stream.key, offset: eventOffset(block, index), message: eventMessage(block, index) });
    }
    block.ack();
  }
}

const LINE = /^seq=(\d+) /;

/** The seq number of a written line, or of a torn piece of one that shows it whole; null otherwise. */
function seqOf(message: string): number | null {
  const match = LINE.exec(message);
  return match === null ? null : Number(match[1]);
}

/** Was this message written, whole or as the start of a line (a line torn by logrotate's copy)? */
function wasWritten(message: string): boolean {
  const seq = seqOf(message);
  if (seq !== null) return seq < LINES && lineFor(seq).startsWith(message);
  // Torn inside "seq=<digits>": only the digits' prefix is left.
  return /^(s|se|seq|seq=\d*)?$/.test(message) && message.length > 0;
}

/** Every line in the files left at the end, with the file it is in; a last line without newline is torn. */
function linesInFiles(dir: string): { where: Map<string, string>; torn: string[]; files: string[]; duplicated: string[] } {
  const where = new Map<string, string>();
  const torn: string[] = [];
  const duplicated: string[] = [];
  const files = readdirSync(dir).filter((name) => name.startsWith("app.log")).sort();
  for (const name of files) {
    const raw = readFileSync(join(dir, name));
    const text = (name.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
    if (text.length === 0) continue;
    const lines = text.split("\n");
    const last = lines.pop() as string;
    if (last !== "") {
      lines.push(last);
      torn.push(`${name}: ${JSON.stringify(last.slice(0, 40))}`);
    }
    for (const line of lines) {
      if (where.has(line)) duplicated.push(`${JSON.stringify(line.slice(0, 20))} in ${where.get(line)} and ${name}`);
      where.set(line, name);
    }
  }
  return { where, torn, files, duplicated };
}

/** Starts the writer; `finished` resolves with its report once every line is written (it then waits for `release`). */
function runWriter(path: string, reopenOnSignal: boolean): { pid: number; finished: Promise<string>; release: () => Promise<void>; kill: () => void } {
  const args = [WRITER, path, String(LINES), String(WRITE_MS)];
  if (reopenOnSignal) args.push("--reopen-on-usr1");
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let reportLine: (line: string) => void = () => {};
  const finished = new Promise<string>((resolve, reject) => {
    reportLine = resolve;
    child.on("error", reject);
    child.on("close", (code, signal) => reject(new Error(`writer exited with ${code ?? signal} before writing every line: ${err.trim()}`)));
  });
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes("\n")) reportLine(out.trim());
  });
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("close", (code, signal) => (code === 0 ? resolve() : reject(new Error(`writer exited with ${code ?? signal}: ${err.trim()}`))));
  });
  exited.catch(() => {});
  if (child.pid === undefined) throw new Error("writer did not start");
  return {
    pid: child.pid,
    finished,
    release: async () => {
      child.stdin.end();
      await exited;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

async function rotationRun(t: TestContext, mode: RotateMode): Promise<void> {
  const binary = ensureLogrotate();
  const root = mkdtempSync(join(tmpdir(), `logship-logrotate-${mode}-`));
  const defer = cleanups(t);
  defer(() => rmSync(root, { recursive: true, force: true }));
  const logDir = join(root, "logs");
  const confDir = join(root, "conf");
  mkdirSync(logDir, { mode: 0o755 });
  mkdirSync(confDir);
  const live = join(logDir, "app.log");
  const startedMs = Date.now();

  const output = new RecordingOutput();
  const tailer = startTailer({
    sources: [testSource({ paths: [join(logDir, "app.log*")], exclude: ["*.gz"], startAt: "beginning" })],
    output,
    tail: { statIntervalMs: 50, rescanIntervalMs: 200, rotateWaitMs: ROTATE_WAIT_MS },
    // LOGSHIP_TEST_LOG=debug shows what the tailer did (to stderr).
    logger: process.env.LOGSHIP_TEST_LOG === "debug" ? createLogger({ level: "debug", format: "text", write: (line) => process.stderr.write(`[${mode}] ${line}`) }) : silentLogger,
  });
  let stopped = false;
  defer(async () => {
    if (!stopped) await tailer.stop();
  });

  const writer = runWriter(live, mode === "create");
  defer(() => writer.kill());
  await waitFor(() => existsSync(live), 5_000, "the writer's file");
  // create: the application reopens its file when told, as nginx does on USR1.
  const setup = writeLogrotateConfig(confDir, live, mode, mode === "create" ? ["postrotate", `  kill -USR1 ${writer.pid}`, "endscript"] : []);
  const rotating = new AbortController();
  const rotations: Promise<RotationRun> = forceRotations(binary, setup, ROTATE_EVERY_MS, rotating.signal);
  let writerReport: string;
  try {
    writerReport = await writer.finished;
  } finally {
    rotating.abort();
  }
  const rotated = await rotations;
  await writer.release();
  const writtenMs = Date.now() - startedMs;

  // The files no longer change: what exists now is what the agent must deliver.
  const files = linesInFiles(logDir);
  let last = -1;
  let stableSinceMs = Date.now();
  await waitFor(
    () => {
      const count = output.events.length;
      if (count !== last) {
        last = count;
        stableSinceMs = Date.now();
      }
      // Quiet for longer than rotate_wait: held copies and detached streams are settled.
      return Date.now() - stableSinceMs >= ROTATE_WAIT_MS + 1_000;
    },
    90_000,
    "the tailer to catch up",
  );
  await tailer.stop();
  stopped = true;
  const caughtUpMs = Date.now() - startedMs;

  // ---- what came out ----
  const timesOut = new Map<string, number>();
  for (const event of output.events) timesOut.set(event.message, (timesOut.get(event.message) ?? 0) + 1);
  const duplicates = [...timesOut].filter(([, times]) => times > 1);
  if (duplicates.length > 0) {
    const firstDuplicate = duplicates[0]?.[0];
    const where = output.events.filter((event) => event.message === firstDuplicate).map((event) => `stream ${event.key} offset ${event.offset}`);
    t.diagnostic(`${mode}: ${duplicates.length} lines came out twice or more; ${JSON.stringify(firstDuplicate?.slice(0, 20))} came from ${where.join(" and ")}`);
    const streamsOf = new Map<string, { first: string; last: string; count: number }>();
    for (const event of output.events) {
      const known = streamsOf.get(event.key);
      if (known === undefined) streamsOf.set(event.key, { first: event.message.slice(0, 12), last: event.message.slice(0, 12), count: 1 });
      else {
        known.last = event.message.slice(0, 12);
        known.count++;
      }
    }
    for (const [key, info] of streamsOf) t.diagnostic(`${mode}: stream ${key}: ${info.count} events, ${info.first} .. ${info.last}`);
    // The runs of consecutive lines each of those streams read, with their offsets.
    const involved = new Set(output.events.filter((event) => event.message === firstDuplicate).map((event) => event.key));
    for (const key of involved) {
      const runs: string[] = [];
      let run: { from: number; to: number; offset: number; endOffset: number } | null = null;
      for (const event of output.events) {
        if (event.key !== key) continue;
        const seq = seqOf(event.message) ?? -1;
        if (run !== null && seq === run.to + 1) {
          run.to = seq;
          run.endOffset = event.offset;
          continue;
        }
        if (run !== null) runs.push(`${run.from}..${run.to}@${run.offset}..${run.endOffset}`);
        run = { from: seq, to: seq, offset: event.offset, endOffset: event.offset };
      }
      if (run !== null) runs.push(`${run.from}..${run.to}@${run.offset}..${run.endOffset}`);
      t.diagnostic(`${mode}: stream ${key} read seq..seq@offset..offset: ${runs.slice(0, 20).join(" ")}`);
    }
  }
  const neverWritten = [...timesOut.keys()].filter((message) => !wasWritten(message));
  const seqsOut = new Map<number, number>();
  for (const message of timesOut.keys()) {
    const seq = seqOf(message);
    if (seq !== null) seqsOut.set(seq, (seqsOut.get(seq) ?? 0) + 1);
  }
  // A line that came out whole and also as a torn piece would be a line read twice.
  const seqTwice = [...seqsOut].filter(([, times]) => times > 1).map(([seq]) => seq);

  // ---- in order per stream (a stream is one file's bytes, followed through renames and copies) ----
  const disorder: string[] = [];
  const lastOf = new Map<string, { offset: number; seq: number | null }>();
  for (const event of output.events) {
    const previous = lastOf.get(event.key);
    const seq = seqOf(event.message);
    if (previous !== undefined) {
      if (event.offset <= previous.offset) disorder.push(`stream ${event.key}: offset ${event.offset} after ${previous.offset}`);
      if (seq !== null && previous.seq !== null && seq <= previous.seq) disorder.push(`stream ${event.key}: seq ${seq} after ${previous.seq}`);
    }
    lastOf.set(event.key, { offset: event.offset, seq: seq ?? previous?.seq ?? null });
  }

  // ---- what exists at the end, against what came out ----
  const missing = [...files.where].filter(([line]) => !timesOut.has(line));
  const readButGone = [...timesOut.keys()].filter((message) => !files.where.has(message));
  const inFiles = new Set<number>();
  for (const line of files.where.keys()) {
    const seq = seqOf(line);
    if (seq !== null && line === lineFor(seq)) inFiles.add(seq);
  }
  const lostByLogrotate: number[] = [];
  for (let seq = 0; seq < LINES; seq++) if (!inFiles.has(seq)) lostByLogrotate.push(seq);
  const lostButRead = lostByLogrotate.filter((seq) => timesOut.has(lineFor(seq))).length;

  t.diagnostic(`${mode}: writer ${writerReport}; ${rotated.rotations} logrotate runs${rotated.failures.length > 0 ? `, ${rotated.failures.length} failed` : ""}; written in ${writtenMs} ms, caught up at ${caughtUpMs} ms`);
  t.diagnostic(`${mode}: ${files.files.length} files at the end, ${files.where.size} lines in them (${files.torn.length} torn by logrotate's copy), ${output.events.length} events from ${lastOf.size} streams`);
  t.diagnostic(`${mode}: ${lostByLogrotate.length} lines lost by logrotate (in no file at the end); the agent had read ${lostButRead} of them from the live file before the truncate; ${readButGone.length} events in no file at the end`);
  if (files.torn.length > 0) t.diagnostic(`${mode}: torn lines: ${files.torn.slice(0, 5).join("; ")}`);
  if (lostByLogrotate.length > 0) t.diagnostic(`${mode}: first lost seqs: ${lostByLogrotate.slice(0, 20).join(",")}`);
  for (const failure of rotated.failures.slice(0, 5)) t.diagnostic(`${mode}: logrotate: ${failure}`);

  // The setup did what it is meant to.
  assert.ok(rotated.rotations >= 15, `only ${rotated.rotations} rotations`);
  assert.deepEqual(rotated.failures, [], "every logrotate run succeeded");
  assert.ok(files.files.some((name) => name.endsWith(".gz")) && files.files.includes("app.log.1"), `rotated files: ${files.files.slice(0, 10).join(" ")}`);
  assert.deepEqual(files.duplicated.slice(0, 10), [], "no line exists in two files");

  // The agent's part.
  assert.deepEqual(duplicates.slice(0, 10).map(([message, times]) => `${times}x ${message.slice(0, 20)}`), [], "no line came out twice");
  assert.deepEqual(seqTwice.slice(0, 10), [], "no line came out both whole and torn");
  assert.deepEqual(neverWritten.slice(0, 10), [], "every event is a line the writer wrote");
  assert.deepEqual(disorder.slice(0, 10), [], "events are in file order within each stream");
  assert.deepEqual(missing.slice(0, 10).map(([line, file]) => `${line.slice(0, 20)} (${file})`), [], `every line in a file at the end came out (${missing.length} did not)`);
  if (mode === "create") {
    // rename + create loses nothing: every line written exists in some file, and nothing came out that is in none.
    assert.deepEqual(lostByLogrotate.slice(0, 10), [], "create mode: logrotate loses nothing");
    assert.deepEqual(readButGone.slice(0, 10), [], "create mode: every event is in a file");
  } else {
    // Events in no file are lines the agent read from the live file before logrotate truncated it.
    // (A torn piece of a lost line counts too: the agent read it just before the truncate.)
    const lostLines = lostByLogrotate.map((seq) => lineFor(seq));
    const unexplained = readButGone.filter((message) => !lostLines.some((line) => line.startsWith(message)));
    assert.deepEqual(unexplained.slice(0, 10), [], "events in no file are lines lost by logrotate");
  }
}

test("logrotate create (rename + create, postrotate reopen) every 200 ms: every line left in a file comes out exactly once, in order", { timeout: 120_000 }, async (t) => {
  await rotationRun(t, "create");
});

test("logrotate copytruncate every 200 ms: every line left in a file comes out exactly once; only lines logrotate lost are missing", { timeout: 120_000 }, async (t) => {
  await rotationRun(t, "copytruncate");
});
