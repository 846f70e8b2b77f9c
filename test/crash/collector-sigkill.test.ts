/**
 * Crash acceptance (issue 4): the collector is SIGKILLed during heavy ingest
 * 20 times; after each restart every acknowledged batch reads back intact,
 * and the log accepts new batches.
 *
 * A real `logship collector` process (test/helpers/processes.ts, fixed port,
 * 1 MiB segments so the log rolls during the run) takes batches from
 * CLIENTS concurrent in-process clients, each its own agent id posting seq
 * 0, 1, 2, … (floor = seq: everything below is acknowledged) as fast as it
 * can: a few hundred known lines each, built with collector/testing. A
 * client retries its in-flight batch (same agent, same seq, same bytes)
 * until it gets a 200, so the first answer after a restart is often a
 * `duplicate` (dedupe rebuilt from the log after a crash).
 *
 * Each cycle: load runs for a seeded random delay, then the collector is
 * SIGKILLed; the clients are parked (every in-flight request has failed),
 * and the log is read directly with readTenantLog while no collector runs
 * (before recovery). Then the collector is restarted on the same port and,
 * before load resumes, the log is read again (after recovery, collector
 * idle) and a probe batch must be stored (200, not a duplicate). Checked on
 * each read:
 * - every acknowledged (agent, seq) is in the log exactly once, its stored
 *   batch byte-identical to the body that was sent (sha-256), at the offset
 *   and with the event count the 200 named; the first time a batch is seen
 *   its events are decoded and their messages and offsets compared with
 *   what was sent;
 * - no (agent, seq) is stored twice, acknowledged or not;
 * - after recovery: no corrupt range, and record offsets are contiguous.
 * Corrupt ranges before recovery (a torn tail) are reported as diagnostics.
 * Finally the collector is stopped with SIGTERM and the log is checked once
 * more.
 *
 * Replay: LOGSHIP_CRASH_SEED=<seed> (printed as a diagnostic);
 * LOGSHIP_CRASH_KILLS (default 20); LOGSHIP_CRASH_KEEP=1 keeps the scratch
 * directory (it is always kept on failure, with the collector's logs).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomInt } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import { seededRandom } from "../../shared/random.ts";
import { payloadEvents } from "../../shared/wire/batch.ts";
import { readTenantLog } from "../../collector/log/reader.ts";
import { makeBatch, type TestBatch } from "../../collector/testing/batches.ts";
import { postBatch, until } from "../../collector/testing/collector.ts";
import { collectorSetup, INGEST_TOKEN, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";

const KILLS = Number(process.env.LOGSHIP_CRASH_KILLS ?? 20);
const CLIENTS = 6;
const LINES = { min: 150, max: 400 };
/** Load runs this long (seeded random) after each restart before the kill. */
const KILL_DELAY_MS = { min: 80, max: 900 };
const RETRY_PAUSE_MS = 10;
const WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(" ");

interface Sent {
  agent: string;
  seq: number;
  /** sha-256 of the HTTP body (the bytes the log must store unchanged). */
  bodyDigest: string;
  events: number;
  /** sha-256 over "offset\tmessage\n" of every event, in order. */
  eventsDigest: string;
}

interface Acked extends Sent {
  /** Offset the 200 named (absent on a duplicate below the floor). */
  offset: number | undefined;
  duplicate: boolean;
  /** Events decoded and compared once already (the body digest covers later reads). */
  decoded: boolean;
}

const key = (agent: string, seq: number): string => `${agent}#${seq}`;

function eventsDigest(lines: readonly string[], baseOffset: number): string {
  const hash = createHash("sha256");
  let offset = baseOffset;
  for (const line of lines) {
    hash.update(`${offset}\t${line}\n`);
    offset += Buffer.byteLength(line, "utf8") + 1;
  }
  return hash.digest("hex");
}

/** One client: its agent id, its next batch, and its file offset (so offsets are distinct and known). */
class Client {
  readonly agent: string;
  readonly random: () => number;
  seq = 0;
  fileOffset = 0;
  parked = true;
  current: { batch: TestBatch; sent: Sent } | null = null;
  constructor(index: number, seed: number) {
    this.agent = `crash-agent-${index}`;
    this.random = seededRandom(seed);
  }
  next(): { batch: TestBatch; sent: Sent } {
    if (this.current !== null) return this.current;
    const count = LINES.min + Math.floor(this.random() * (LINES.max - LINES.min + 1));
    const lines: string[] = [];
    for (let index = 0; index < count; index++) {
      let text = `agent=${this.agent} seq=${this.seq} line=${index}`;
      const words = 4 + Math.floor(this.random() * 10);
      for (let word = 0; word < words; word++) text += ` ${WORDS[Math.floor(this.random() * WORDS.length)] as string}${Math.floor(this.random() * 1000)}`;
      lines.push(text);
    }
    const batch = makeBatch({ agent: this.agent, host: "crash-host", seq: this.seq, floor: this.seq, lines, streamKey: `stream-${this.agent}`, path: `/var/log/${this.agent}.log`, baseOffset: this.fileOffset });
    const sent: Sent = {
      agent: this.agent,
      seq: this.seq,
      bodyDigest: createHash("sha256").update(batch.body).digest("hex"),
      events: count,
      eventsDigest: eventsDigest(lines, this.fileOffset),
    };
    this.current = { batch, sent };
    return this.current;
  }
  advance(): void {
    const current = this.current as { batch: TestBatch; sent: Sent };
    this.fileOffset += current.batch.payload.length; // any increasing value: offsets only need to be distinct and known
    this.seq++;
    this.current = null;
  }
}

interface LogCheck {
  records: number;
  corrupt: string[];
  problems: string[];
  newlyDecoded: number;
}

/** Read the whole tenant log from the files and check it against `acked`. */
async function checkLog(dataDir: string, acked: Map<string, Acked>, afterRecovery: boolean): Promise<LogCheck> {
  const corrupt: string[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  let records = 0;
  let newlyDecoded = 0;
  let expectedOffset: number | undefined;
  for await (const entry of readTenantLog(join(dataDir, "log"), "default", { onCorrupt: (range) => corrupt.push(`${range.segment}@${range.position}+${range.bytes} ${range.reason}${range.tail ? " (tail)" : ""}`) })) {
    records++;
    const { header } = entry;
    if (afterRecovery && expectedOffset !== undefined && header.baseOffset !== expectedOffset) {
      problems.push(`record ${header.agent}#${header.seq} has base offset ${header.baseOffset}, expected ${expectedOffset}`);
    }
    expectedOffset = header.baseOffset + header.events;
    const id = key(header.agent, header.seq);
    const count = (seen.get(id) ?? 0) + 1;
    seen.set(id, count);
    if (count === 2) problems.push(`${id} is stored twice (second at offset ${header.baseOffset})`);
    const ack = acked.get(id);
    if (ack === undefined) continue;
    const digest = createHash("sha256").update(entry.batch).digest("hex");
    if (digest !== ack.bodyDigest) {
      problems.push(`${id}: stored batch differs from the acknowledged body (${entry.batch.length} bytes)`);
      continue;
    }
    if (header.events !== ack.events) problems.push(`${id}: record says ${header.events} events, ${ack.events} were sent`);
    if (ack.offset !== undefined && count === 1 && header.baseOffset !== ack.offset) problems.push(`${id}: stored at offset ${header.baseOffset}, the 200 said ${ack.offset}`);
    if (!ack.decoded) {
      const hash = createHash("sha256");
      let events = 0;
      for (const event of payloadEvents(zstdDecompressSync(entry.batch))) {
        hash.update(`${event.offset}\t${event.message}\n`);
        events++;
      }
      if (events !== ack.events || hash.digest("hex") !== ack.eventsDigest) problems.push(`${id}: decoded events (${events}) differ from the ${ack.events} sent`);
      else ack.decoded = true;
      newlyDecoded++;
    }
  }
  for (const [id] of acked) {
    if (!seen.has(id)) problems.push(`${id}: acknowledged but missing from the log`);
  }
  return { records, corrupt, problems, newlyDecoded };
}

test("collector SIGKILLed during heavy ingest: every acknowledged batch survives, and the log takes new batches", { timeout: 240_000 }, async (t) => {
  const seed = Number(process.env.LOGSHIP_CRASH_SEED ?? randomInt(1, 2 ** 31));
  t.diagnostic(`seed ${seed} (LOGSHIP_CRASH_SEED=${seed} replays the kill delays and batch contents), ${KILLS} kills, ${CLIENTS} clients`);
  const random = seededRandom(seed);
  const dir = await mkdtemp(join(tmpdir(), "logship-collector-sigkill-"));
  let passed = false;
  const runs: LogshipProcess[] = [];
  const setup: CollectorSetup = await collectorSetup(dir, "log:\n  segment_bytes: 1MiB\n");
  const auth = { authorization: `Bearer ${INGEST_TOKEN}` };
  const acked = new Map<string, Acked>();
  const clients = Array.from({ length: CLIENTS }, (_, index) => new Client(index, Math.floor(random() * 2 ** 31)));
  let stopping = false;
  let loadOpen = false;
  const gate: { promise: Promise<void>; wake: () => void } = { promise: Promise.resolve(), wake: () => undefined };
  gate.promise = new Promise((resolve) => (gate.wake = resolve));
  const stats = { acks: 0, duplicates: 0, failures: 0, unexpected: [] as string[] };

  const openLoad = (): void => {
    loadOpen = true;
    gate.wake();
  };
  const closeLoad = (): void => {
    loadOpen = false;
    gate.promise = new Promise((resolve) => (gate.wake = resolve));
  };
  const record = (sent: Sent, json: Record<string, unknown>): void => {
    const duplicate = json.duplicate === true;
    const offset = typeof json.offset === "number" ? json.offset : undefined;
    if (!duplicate && offset === undefined) stats.unexpected.push(`${key(sent.agent, sent.seq)}: 200 without an offset ${JSON.stringify(json)}`);
    if (typeof json.events === "number" && json.events !== sent.events) stats.unexpected.push(`${key(sent.agent, sent.seq)}: 200 says ${json.events} events, ${sent.events} sent`);
    acked.set(key(sent.agent, sent.seq), { ...sent, offset, duplicate, decoded: false });
    stats.acks++;
    if (duplicate) stats.duplicates++;
  };

  const runClient = async (client: Client): Promise<void> => {
    while (!stopping) {
      if (!loadOpen) {
        client.parked = true;
        await gate.promise;
        continue;
      }
      client.parked = false;
      const { batch, sent } = client.next();
      try {
        const response = await postBatch(setup.url, batch.body, auth);
        if (response.status === 200) {
          record(sent, response.json);
          client.advance();
        } else if (response.status === 429 || response.status === 503) {
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        } else {
          stats.unexpected.push(`${key(sent.agent, sent.seq)}: HTTP ${response.status} ${JSON.stringify(response.json)}`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
        }
      } catch {
        // The collector died under this request (or is not up yet): the same batch is sent again.
        stats.failures++;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
    client.parked = true;
  };

  const verify = async (label: string, afterRecovery: boolean): Promise<void> => {
    const check = await checkLog(setup.dataDir, acked, afterRecovery);
    if (check.corrupt.length > 0) t.diagnostic(`${label}: corrupt ranges ${check.corrupt.join("; ")}`);
    const problems = [...check.problems];
    if (afterRecovery && check.corrupt.length > 0) problems.push(`corrupt ranges after recovery: ${check.corrupt.join("; ")}`);
    if (problems.length > 0) {
      throw new assert.AssertionError({
        message: `${label} (seed ${seed}): ${problems.length} problems in ${check.records} records, ${acked.size} acknowledged:\n${problems.slice(0, 20).join("\n")}`,
      });
    }
  };

  const probe = async (round: number): Promise<void> => {
    const batch = makeBatch({ agent: "crash-probe", host: "crash-host", seq: round, floor: round, lines: [`probe after restart ${round}`], streamKey: "stream-probe", baseOffset: round * 100 });
    const response = await postBatch(setup.url, batch.body, auth);
    assert.equal(response.status, 200, `probe ${round} after restart: HTTP ${response.status} ${JSON.stringify(response.json)} (seed ${seed})`);
    assert.notEqual(response.json.duplicate, true, `probe ${round} after restart was called a duplicate (seed ${seed})`);
    record({ agent: "crash-probe", seq: round, bodyDigest: createHash("sha256").update(batch.body).digest("hex"), events: 1, eventsDigest: eventsDigest([`probe after restart ${round}`], round * 100) }, response.json);
  };

  try {
    runs.push(await setup.start());
    const workers = clients.map((client) => runClient(client));
    for (let round = 0; round < KILLS; round++) {
      const acksBefore = stats.acks;
      openLoad();
      const delay = KILL_DELAY_MS.min + Math.floor(random() * (KILL_DELAY_MS.max - KILL_DELAY_MS.min + 1));
      await new Promise((resolve) => setTimeout(resolve, delay));
      // Some load must have been acknowledged in this round (so the kill lands in heavy ingest), however slow the machine.
      await until(() => stats.acks > acksBefore + CLIENTS, `acknowledgements in round ${round}`, 60_000);
      closeLoad();
      await (setup.process as LogshipProcess).kill("SIGKILL");
      await until(() => clients.every((client) => client.parked), "clients parked after the kill", 60_000);
      await verify(`round ${round}, killed (before recovery)`, false);
      runs.push(await setup.start());
      await verify(`round ${round}, restarted (after recovery)`, true);
      await probe(round);
    }
    openLoad();
    const acksBefore = stats.acks;
    await until(() => stats.acks > acksBefore + CLIENTS, "acknowledgements after the last restart", 60_000);
    stopping = true;
    closeLoad();
    await until(() => clients.every((client) => client.parked), "clients stopped", 60_000);
    gate.wake();
    await Promise.all(workers);
    await (setup.process as LogshipProcess).kill("SIGTERM");
    const exit = await (setup.process as LogshipProcess).exited;
    assert.equal(exit.code, 0, `collector exited ${exit.code ?? exit.signal} on SIGTERM`);
    await verify("final (after SIGTERM)", true);
    assert.deepEqual(stats.unexpected, [], `unexpected answers (seed ${seed})`);
    const recoveries = runs.flatMap((run) => run.log.filter((line) => /log recovery/.test(line))).length;
    t.diagnostic(`${stats.acks} acknowledgements (${stats.duplicates} duplicates after a retry), ${stats.failures} failed attempts retried, ${acked.size} batches checked, ${recoveries} recovery log lines`);
    passed = true;
  } finally {
    stopping = true;
    gate.wake();
    if (setup.process !== null) await setup.process.kill("SIGKILL");
    if (passed && process.env.LOGSHIP_CRASH_KEEP !== "1") {
      await rm(dir, { recursive: true, force: true });
    } else {
      await writeFile(join(dir, "collector-logs.txt"), runs.map((run, index) => `--- run ${index}\n${run.log.join("\n")}`).join("\n"));
      t.diagnostic(`scratch directory kept: ${dir}`);
    }
  }
});
