/**
 * Pipeline golden fixtures: input logs → expected NDJSON events, through the
 * real CLI. Each directory `test/golden/<case>/` holds an `agent.yaml`, its
 * input files and `expected.ndjson`; the test runs
 *
 *   logship agent --config test/golden/<case>/agent.yaml --dry-run --once
 *
 * as a subprocess (cwd = the repository) and compares the events it prints
 * with the expectations. Only what cannot be fixed is normalised, in the
 * output and in the expectations alike:
 * - `observed_time`, and `time` when it is the read time (no parsed time),
 *   become "<read time>" (both are checked to be the time of the run);
 * - `id` becomes "<id>": it is derived from the file's device and inode, which
 *   differ per checkout. Ids are checked to be well formed, unique, and the
 *   same on a second run over the same files;
 * - `path` becomes relative to the case directory;
 * - the year of `time` for sources named "*-yearless" (RFC 3164 syslog, whose
 *   timestamps have no year: it comes from the read time) becomes "YYYY",
 *   after checking it is the read year or next to it.
 * Events are ordered by path (order between files is not part of the
 * contract); within a file they must come out in file order.
 *
 * The config's data_dir is `${GOLDEN_DATA_DIR}`, an empty scratch directory:
 * a dry run writes no checkpoint, so it must still be empty afterwards.
 *
 * Regenerate after a deliberate change with
 *   UPDATE_GOLDEN=1 npx node --test test/golden/golden.test.ts
 * and read the diff line by line: expectations are checked by hand against
 * the inputs, not merely recorded. Inputs with special bytes come from
 * make-inputs.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { isAbsolute, join, relative, sep } from "node:path";
import { describe, it, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Event } from "../../shared/event.ts";

const GOLDEN_DIRECTORY = fileURLToPath(new URL("./", import.meta.url));
const REPOSITORY = fileURLToPath(new URL("../../", import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const READ_TIME = "<read time>";
const ID = "<id>";
const ID_PATTERN = /^[A-Za-z0-9_-]{16}[0-9a-z]+$/;
const RFC3339_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PARSER_TYPES = ["none", "json", "logfmt", "regex", "nginx", "apache", "syslog"];
const RUN_TIMEOUT_MS = 30_000;

const cases = readdirSync(GOLDEN_DIRECTORY, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(GOLDEN_DIRECTORY, entry.name, "agent.yaml")))
  .map((entry) => entry.name)
  .sort();

interface DryRun {
  /** Events as printed, in output order. */
  events: Event[];
  stderr: string;
  startedMs: number;
  finishedMs: number;
  /** Entries found in data_dir after the run. */
  dataDirEntries: string[];
}

/** Runs the real CLI's dry run over one case. */
async function dryRun(name: string): Promise<DryRun> {
  const dataDir = mkdtempSync(join(tmpdir(), "logship-golden-"));
  try {
    const startedMs = Date.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ["bin/logship.ts", "agent", "--config", `test/golden/${name}/agent.yaml`, "--dry-run", "--once", "--log-format", "json"],
        { cwd: REPOSITORY, env: { ...process.env, GOLDEN_DATA_DIR: dataDir }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: RUN_TIMEOUT_MS },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== "number") reject(error);
          else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
        },
      );
    });
    const finishedMs = Date.now();
    assert.equal(code, 0, `${name}: logship exited with ${code}\n${stderr}`);
    const events = stdout
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Event);
    return { events, stderr, startedMs, finishedMs, dataDirEntries: readdirSync(dataDir, { recursive: true }) as string[] };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function checkReadTime(value: string, run: DryRun, what: string): void {
  assert.match(value, RFC3339_MS_UTC, what);
  const ms = Date.parse(value);
  // Whole milliseconds on both sides; a little slack for clock granularity.
  assert.ok(ms >= run.startedMs - 1000 && ms <= run.finishedMs + 1000, `${what}: ${value} is not the time of the run`);
}

/** The event with its volatile parts replaced (see the header). */
function normalise(event: Event, caseDirectory: string, run: DryRun): Record<string, unknown> {
  const where = `${event.source} ${event.path}@${event.offset}`;
  assert.match(event.id, ID_PATTERN, `${where}: id`);
  assert.ok(isAbsolute(event.path), `${where}: path is not absolute`);
  checkReadTime(event.observed_time, run, `${where}: observed_time`);
  let time: string = event.time;
  if (time === event.observed_time) {
    time = READ_TIME;
  } else {
    assert.match(time, RFC3339_MS_UTC, `${where}: time`);
    if (event.source.endsWith("-yearless")) {
      const year = Number(time.slice(0, 4));
      const readYear = new Date(event.observed_time).getUTCFullYear();
      assert.ok(Math.abs(year - readYear) <= 1, `${where}: year of a yearless time ${time} is far from the read year ${readYear}`);
      time = `YYYY${time.slice(4)}`;
    }
  }
  return {
    ...event,
    id: ID,
    time,
    observed_time: READ_TIME,
    path: relative(caseDirectory, event.path).split(sep).join("/"),
  };
}

/** Events grouped by path (stable), after checking each file's events come out in file order. */
function byPath(events: Event[]): Event[] {
  const lastOffset = new Map<string, number>();
  for (const event of events) {
    const last = lastOffset.get(event.path);
    assert.ok(last === undefined || event.offset > last, `${event.path}: offset ${event.offset} after ${last}`);
    lastOffset.set(event.path, event.offset);
  }
  return [...events].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function readExpected(file: string): unknown[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown);
}

test("there is a golden case for every parser type", () => {
  for (const type of PARSER_TYPES) assert.ok(cases.includes(`parser-${type}`), `no test/golden/parser-${type}/`);
});

describe("golden: dry-run events", { concurrency: Math.max(2, availableParallelism()) }, () => {
  for (const name of cases) {
    it(name, { timeout: RUN_TIMEOUT_MS * 2 }, async () => {
      const caseDirectory = join(GOLDEN_DIRECTORY, name);
      const run = await dryRun(name);
      for (const line of run.stderr.split("\n").filter((text) => text.length > 0)) {
        const record = JSON.parse(line) as { level?: string; msg?: string };
        assert.ok(record.level !== "warn" && record.level !== "error", `${name}: logship logged ${line}`);
      }
      assert.deepEqual(run.dataDirEntries, [], `${name}: a dry run wrote into data_dir`);
      const ids = run.events.map((event) => event.id);
      assert.equal(new Set(ids).size, ids.length, `${name}: duplicate event ids`);
      for (const event of run.events) assert.equal(event.host, "golden", `${name}: host`);
      const actual = byPath(run.events).map((event) => normalise(event, caseDirectory, run));
      const expectedFile = join(caseDirectory, "expected.ndjson");
      if (UPDATE) {
        writeFileSync(expectedFile, actual.map((event) => JSON.stringify(event)).join("\n") + (actual.length > 0 ? "\n" : ""));
        return;
      }
      assert.ok(existsSync(expectedFile), `${name}: no expected.ndjson (write it with UPDATE_GOLDEN=1, then check it by hand)`);
      const expected = readExpected(expectedFile);
      for (let index = 0; index < Math.min(actual.length, expected.length); index++) {
        assert.deepEqual(actual[index], expected[index], `${name}: event ${index + 1} of ${expected.length}`);
      }
      assert.equal(actual.length, expected.length, `${name}: ${actual.length} events, ${expected.length} expected`);
    });
  }
});

test("ids are deterministic: a second dry run over the same files gives the same ids", async () => {
  for (const name of ["multiline-java", "parser-none"]) {
    const [first, second] = await Promise.all([dryRun(name), dryRun(name)]);
    const key = (event: Event): string => `${event.path}@${event.offset} ${event.id}`;
    assert.deepEqual(byPath(second.events).map(key), byPath(first.events).map(key), name);
  }
});
