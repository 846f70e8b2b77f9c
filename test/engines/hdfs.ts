/**
 * The real single-node HDFS (test/engines/hdfs.sh: a NameNode and a DataNode
 * JVM, WebHDFS on), for the archive sink's integration tests and benchmark.
 *
 * startHdfs() runs `hdfs.sh start` (downloads Hadoop's jars from Maven
 * Central the first time; a failure there throws with the script's output)
 * and returns the WebHDFS address "127.0.0.1:PORT". stopHdfs() stops it only
 * if this process started it, so an HDFS someone left running for a dev loop
 * survives a test run. stopNamenode()/startNamenode() take the NameNode down
 * and up alone (an outage the archive sink must ride out).
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const HDFS_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "hdfs.sh");

export const HDFS_PORT_DEFAULT = 29870;

type Command = "start" | "stop" | "status" | "stop-namenode" | "start-namenode";

/** Ports of the file systems this process started. */
const startedHere = new Set<number>();

function runScript(command: Command, timeoutMs: number, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", [HDFS_SCRIPT, command], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, ...env } });
  if (result.error) throw new Error(`hdfs.sh ${command}: ${result.error.message}\n${result.stderr ?? ""}`);
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

function lastLine(text: string): string | null {
  return text.split("\n").pop() || null;
}

/** The WebHDFS address of a running HDFS, or null. */
export function hdfsStatus(port = HDFS_PORT_DEFAULT): string | null {
  const result = runScript("status", 10_000, { HDFS_PORT: String(port) });
  return result.status === 0 ? lastLine(result.stdout) : null;
}

/**
 * Returns "127.0.0.1:PORT" of the local WebHDFS: a running HDFS as it is, or
 * one started now (downloading Hadoop if needed) on an empty file system
 * unless `fresh` is false.
 */
export function startHdfs(options: { fresh?: boolean; port?: number } = {}): string {
  const port = options.port ?? HDFS_PORT_DEFAULT;
  const already = hdfsStatus(port);
  if (already !== null) return already;
  const result = runScript("start", 600_000, { HDFS_FRESH: options.fresh === false ? "0" : "1", HDFS_PORT: String(port) });
  if (result.status !== 0) throw new Error(`test/engines/hdfs.sh start failed (exit ${result.status}):\n${result.stderr.trim()}`);
  startedHere.add(port);
  const address = lastLine(result.stdout);
  if (address === null) throw new Error(`hdfs.sh start printed no address:\n${result.stderr}`);
  return address;
}

/** Stops the HDFS on `port` if startHdfs() in this process started it. */
export function stopHdfs(port = HDFS_PORT_DEFAULT): void {
  if (!startedHere.delete(port)) return;
  runScript("stop", 60_000, { HDFS_PORT: String(port) });
}

/** Stops the NameNode alone; the DataNode keeps running. */
export function stopNamenode(port = HDFS_PORT_DEFAULT): void {
  const result = runScript("stop-namenode", 60_000, { HDFS_PORT: String(port) });
  if (result.status !== 0) throw new Error(`hdfs.sh stop-namenode failed (exit ${result.status}):\n${result.stderr.trim()}`);
}

/** Starts the NameNode again and returns once WebHDFS takes a write. */
export function startNamenode(port = HDFS_PORT_DEFAULT): void {
  const result = runScript("start-namenode", 300_000, { HDFS_PORT: String(port) });
  if (result.status !== 0) throw new Error(`hdfs.sh start-namenode failed (exit ${result.status}):\n${result.stderr.trim()}`);
}
