/**
 * The archive on a real HDFS (test/engines/hdfs.sh: a NameNode and a
 * DataNode JVM, WebHDFS; the NameNode's redirects name the DataNode
 * `localhost`, resolved like any host name):
 *
 * 1. The WebHDFS target alone: a file staged locally, uploaded in two steps
 *    (NameNode 307, DataNode 201) under its hidden name into partition
 *    directories with `=` in their names, listed, renamed (a second rename,
 *    as after a lost answer, finds it done), read back, deleted; errors
 *    classified: a rename onto another file (retry, WEBHDFS_RENAME), a file
 *    where a directory must be (an operator's fix: not retryable), a port
 *    nobody listens on (retry, WEBHDFS_UNREACHABLE).
 * 2. End to end: 4 × 250,000 lines through agent → collector → archive
 *    (Parquet on webhdfs://) with the NameNode stopped for 30 s mid-run: the
 *    sink retries; afterwards the files are listed through WebHDFS (none
 *    hidden), downloaded and read by DuckDB: every line once, in its own
 *    time's partition.
 *
 * LOGSHIP_ARCHIVE_E2E_LINES=<n> writes n lines per file in 2 (a quicker local loop).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { WebHdfsClient } from "../../collector/sinks/archive/webhdfs-client.ts";
import { WebHdfsError } from "../../collector/sinks/archive/webhdfs-errors.ts";
import { WebHdfsTarget } from "../../collector/sinks/archive/webhdfs-target.ts";
import { HDFS_PORT_DEFAULT, startHdfs, startNamenode, stopHdfs, stopNamenode } from "../engines/hdfs.ts";
import { archiveLine, readArchive } from "../helpers/archive-duckdb.ts";
import { agentSetup, collectorSetup, freePort, until, waitDelivered, type LogshipProcess } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const LINES_PER_FILE = Number(process.env.LOGSHIP_ARCHIVE_E2E_LINES ?? 250_000);
const NAMES = ["a", "b", "c", "d"];
const BURSTS = 40;
const BASE_MS = Date.parse("2026-03-01T08:00:00.000Z");
const SEQ_STEP_MS = 400;
const PADDING = "the quick brown fox jumps over the lazy dog";
const ADMIN_TOKEN = "e2e-admin-token";
const OUTAGE_MS = 30_000;
const USER = "logship";

let address = "";

before(() => {
  address = startHdfs();
});

after(() => {
  stopHdfs();
});

function client(): WebHdfsClient {
  return new WebHdfsClient({ namenodeUrl: `http://${address}`, user: USER, timeoutMs: 10_000 });
}

async function rejection(promise: Promise<unknown>): Promise<WebHdfsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WebHdfsError, String(error));
    return error;
  }
  assert.fail("expected a WebHdfsError");
}

test("the WebHDFS target: upload in two steps, list, rename (idempotent after a lost answer), read, delete; errors classified", async (t) => {
  const staging = await mkdtemp(join(tmpdir(), "logship-webhdfs-staging-"));
  const defer = cleanups(t);
  defer(() => rm(staging, { recursive: true, force: true }));
  const rootPath = `/itest-target-${Date.now()}`;
  const target = await WebHdfsTarget.open({ url: `webhdfs://${address}${rootPath}`, stagingDirectory: staging, user: USER, timeoutMs: 10_000 });
  const hdfs = client();
  defer(async () => {
    await target.close();
    await hdfs.close();
  });
  const partition = "tenant=default/dt=2026-03-01/hour=10";
  assert.deepEqual(await target.list(), [], "a missing root lists empty");
  await target.ensureDirectory(partition);
  const content = Buffer.from("x".repeat(100_000));
  await writeFile(target.writePath(partition, ".inprogress-default-0-abcd"), content);
  await target.publish(partition, ".inprogress-default-0-abcd");
  assert.deepEqual(await target.list(), [{ directory: partition, name: ".inprogress-default-0-abcd" }]);
  await target.rename(partition, ".inprogress-default-0-abcd", "default-0-9.parquet");
  await target.rename(partition, ".inprogress-default-0-abcd", "default-0-9.parquet"); // as after a lost answer: already done
  assert.deepEqual(await target.list(partition), [{ directory: partition, name: "default-0-9.parquet" }]);
  assert.deepEqual(await target.list("tenant=default/dt=2026-03-01/hour=11"), []);
  assert.ok((await hdfs.read(`${rootPath}/${partition}/default-0-9.parquet`)).equals(content), "the bytes read back are the bytes written");

  // A rename onto an existing file: HDFS answers false; both are present: retry.
  await writeFile(target.writePath(partition, ".inprogress-default-0-ef01"), "other");
  await target.publish(partition, ".inprogress-default-0-ef01");
  const clash = await rejection(target.rename(partition, ".inprogress-default-0-ef01", "default-0-9.parquet"));
  assert.deepEqual([clash.code, clash.retryable], ["WEBHDFS_RENAME", true]);
  await target.remove(partition, ".inprogress-default-0-ef01");
  await target.remove(partition, ".inprogress-default-0-ef01"); // nothing left: no error

  // A file where a partition directory must be: an operator has to move it.
  const blocked = await WebHdfsTarget.open({ url: `webhdfs://${address}${rootPath}/${partition}/default-0-9.parquet`, stagingDirectory: join(staging, "blocked"), user: USER, timeoutMs: 10_000 });
  defer(() => blocked.close());
  await blocked.ensureDirectory("hour=12");
  await writeFile(blocked.writePath("hour=12", ".inprogress-x"), "x");
  const refused = await rejection(blocked.publish("hour=12", ".inprogress-x"));
  assert.equal(refused.retryable, false, refused.message);
  assert.equal(refused.code, "WEBHDFS_REFUSED");

  const nobody = await WebHdfsTarget.open({ url: `webhdfs://127.0.0.1:${await freePort()}/x`, stagingDirectory: join(staging, "nobody"), timeoutMs: 2_000 });
  defer(() => nobody.close());
  const unreachable = await rejection(nobody.list());
  assert.deepEqual([unreachable.code, unreachable.retryable], ["WEBHDFS_UNREACHABLE", true]);

  await target.remove(partition, "default-0-9.parquet");
  assert.deepEqual(await target.list(), []);
});

/** Every file under `rootPath` in HDFS, with its directory relative to the root. */
async function listHdfs(hdfs: WebHdfsClient, rootPath: string, directory = ""): Promise<string[]> {
  const statuses = (await hdfs.listStatus(directory === "" ? rootPath : `${rootPath}/${directory}`)) ?? [];
  const files: string[] = [];
  for (const status of statuses) {
    const relative = directory === "" ? status.pathSuffix : `${directory}/${status.pathSuffix}`;
    if (status.type === "DIRECTORY") files.push(...(await listHdfs(hdfs, rootPath, relative)));
    else files.push(relative);
  }
  return files;
}

async function waitArchived(url: string, timeoutMs: number): Promise<void> {
  await until("the archive's lag to drop to 0", timeoutMs, async () => {
    const response = await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return undefined;
    const status = (await response.json()) as { sinks: { sink: string; committed_offset: number; lag: { events: number } }[] };
    const archive = status.sinks.find((sink) => sink.sink === "archive");
    return archive !== undefined && archive.lag.events === 0 && archive.committed_offset > 0 ? true : undefined;
  });
}

async function stopCleanly(process: LogshipProcess, name: string): Promise<void> {
  await process.kill("SIGTERM");
  assert.deepEqual(await process.exited, { code: 0, signal: null }, `${name} exit on SIGTERM; last log:\n${process.log.slice(-10).join("\n")}`);
}

test("end to end on HDFS: 1,000,000 lines with the NameNode stopped for 30 s mid-run; listed through WebHDFS, downloaded and read by DuckDB: every line once", { timeout: 900_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "logship-itest-archive-hdfs-"));
  let passed = false;
  const rootPath = `/itest-e2e-${Date.now()}`;
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const paths = NAMES.map((name) => join(logsDir, `${name}.log`));
  for (const path of paths) await writeFile(path, "");
  const collector = await collectorSetup(
    join(dir, "collector"),
    [
      `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }`,
      `sinks:`,
      `  search: { type: none }`,
      `  archive: { format: parquet, target: "webhdfs://${address}${rootPath}", user: ${USER}, timeout: 5s, roll: { max_bytes: 16MiB, max_age: 5s } }`,
      ``,
    ].join("\n"),
  );
  const agent = await agentSetup(join(dir, "agent"), [collector.url], [join(logsDir, "*.log")], "    parser: { type: logfmt, time_field: ts, time_format: rfc3339 }");
  const collectorProcess = await collector.start();
  const agentProcess = await agent.start();
  const hdfs = client();
  let outage: Promise<void> = Promise.resolve();
  try {
    const startedMs = Date.now();
    const perBurst = Math.ceil(LINES_PER_FILE / BURSTS);
    for (let burst = 0; burst * perBurst < LINES_PER_FILE; burst++) {
      if (burst === Math.floor(BURSTS * 0.4)) {
        stopNamenode(HDFS_PORT_DEFAULT);
        outage = new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)).then(() => startNamenode(HDFS_PORT_DEFAULT));
      }
      await Promise.all(
        paths.map((path, index) => {
          let text = "";
          for (let seq = burst * perBurst; seq < Math.min(LINES_PER_FILE, (burst + 1) * perBurst); seq++) text += archiveLine(BASE_MS + seq * SEQ_STEP_MS, NAMES[index] as string, seq, PADDING);
          return appendFile(path, text);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await outage;
    await waitDelivered(agent, paths, 300_000);
    await waitArchived(collector.url, 180_000);
    const archivedMs = Date.now();
    const retries = collectorProcess.log.filter((line) => /archive write failed/.test(line)).length;
    await stopCleanly(agentProcess, "agent");
    await stopCleanly(collectorProcess, "collector");
    assert.ok(retries > 0, "the outage made the archive retry (else it did not test anything)");

    const files = await listHdfs(hdfs, rootPath);
    assert.deepEqual(files.filter((file) => /(^|\/)\./.test(file)), [], "no in-progress file is left in HDFS");
    const local = join(dir, "downloaded");
    for (const file of files) {
      await mkdir(dirname(join(local, file)), { recursive: true });
      await writeFile(join(local, file), await hdfs.read(`${rootPath}/${file}`));
    }
    const report = await readArchive(local, "parquet", Object.fromEntries(NAMES.map((name) => [name, LINES_PER_FILE])));
    t.diagnostic(`${NAMES.length * LINES_PER_FILE} lines archived to HDFS in ${archivedMs - startedMs} ms with a ${OUTAGE_MS} ms NameNode outage (${retries} failed writes retried); ${files.length} files`);
    assert.deepEqual(
      { ...report, files: report.files === files.length },
      { files: true, hiddenFiles: 0, rows: NAMES.length * LINES_PER_FILE, unexpected: 0, duplicates: 0, missing: 0, wrongPartition: 0, wrongTime: 0 },
    );
    passed = true;
  } finally {
    await outage.catch(() => undefined); // a failed restart already failed the test in the try block
    await agentProcess.kill("SIGKILL");
    await collectorProcess.kill("SIGKILL");
    await hdfs.close();
    if (passed) await rm(dir, { recursive: true, force: true });
    else {
      await writeFile(join(dir, "collector.log"), collectorProcess.log.join("\n"));
      await writeFile(join(dir, "agent.log"), agentProcess.log.join("\n"));
      t.diagnostic(`kept ${dir} (process logs there)`);
    }
  }
});
