/**
 * The real OpenSearch node (test/engines/opensearch.sh), for integration
 * tests and the OpenSearch benchmark.
 *
 * startOpenSearch() runs `opensearch.sh start` (downloads the distribution
 * from Maven Central the first time; a failure there throws with the
 * script's output) and returns the node's URL. stopOpenSearch() stops the
 * node only if this process started it, so a node someone left running for
 * a dev loop survives a test run. `port` picks another node than the shared
 * one on 29200 (its own data dir): a test that stops its node on purpose
 * uses one of its own. `secure` starts the TLS + auth variant (the script's
 * OPENSEARCH_SECURE=1): its CA file, user and JWT signing key come back too.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const OPENSEARCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "opensearch.sh");

export const OPENSEARCH_PORT_DEFAULT = 29200;
/** The secured node's port: a node of its own (another version, with the security plugin). */
export const OPENSEARCH_SECURE_PORT_DEFAULT = 29210;

export interface OpenSearchNodeOptions {
  port?: number;
  /** Wipe the node's data dir before starting (default true). */
  fresh?: boolean;
  secure?: boolean;
  /** One write thread and a write queue of this many: concurrent bulk requests get 429 (the script's OPENSEARCH_WRITE_QUEUE_SIZE). */
  writeQueueSize?: number;
}

export interface OpenSearchNode {
  url: string;
  port: number;
  /** The node's data dir (config, data, logs). */
  dataDirectory: string;
}

export interface SecureOpenSearchNode extends OpenSearchNode {
  /** PEM of the CA that signed the node's certificate. */
  caPem: string;
  user: string;
  password: string;
  /** The HS256 key the node verifies bearer tokens (JWTs) with. */
  jwtKey: Buffer;
}

export const SECURE_USER = "logship";
export const SECURE_PASSWORD = "logship-secret";

/** Ports of the nodes this process started. */
const startedHere = new Set<number>();

function environment(options: OpenSearchNodeOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OPENSEARCH_PORT: String(options.port ?? (options.secure === true ? OPENSEARCH_SECURE_PORT_DEFAULT : OPENSEARCH_PORT_DEFAULT)),
    OPENSEARCH_SECURE: options.secure === true ? "1" : "0",
    OPENSEARCH_FRESH: options.fresh === false ? "0" : "1",
    OPENSEARCH_USER: SECURE_USER,
    OPENSEARCH_PASSWORD: SECURE_PASSWORD,
    ...(options.writeQueueSize === undefined ? {} : { OPENSEARCH_WRITE_QUEUE_SIZE: String(options.writeQueueSize) }),
  };
}

function runScript(command: "start" | "stop" | "status", timeoutMs: number, options: OpenSearchNodeOptions): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", [OPENSEARCH_SCRIPT, command], { encoding: "utf8", timeout: timeoutMs, env: environment(options) });
  if (result.error) throw new Error(`opensearch.sh ${command}: ${result.error.message}\n${result.stderr ?? ""}`);
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

function portOf(options: OpenSearchNodeOptions): number {
  return options.port ?? (options.secure === true ? OPENSEARCH_SECURE_PORT_DEFAULT : OPENSEARCH_PORT_DEFAULT);
}

/** The URL of a running node, or null. */
export function openSearchStatus(options: OpenSearchNodeOptions = {}): string | null {
  const result = runScript("status", 15_000, options);
  return result.status === 0 ? (result.stdout.split("\n").pop() ?? null) : null;
}

/** A running node as it is, or one started now (downloading OpenSearch if needed), empty unless `fresh` is false. */
export function startOpenSearch(options: OpenSearchNodeOptions & { secure: true }): SecureOpenSearchNode;
export function startOpenSearch(options?: OpenSearchNodeOptions): OpenSearchNode;
export function startOpenSearch(options: OpenSearchNodeOptions = {}): OpenSearchNode | SecureOpenSearchNode {
  const port = portOf(options);
  let url = openSearchStatus(options);
  if (url === null) {
    const result = runScript("start", 900_000, options);
    if (result.status !== 0) throw new Error(`test/engines/opensearch.sh start failed (exit ${result.status}):\n${result.stderr.trim()}`);
    startedHere.add(port);
    url = result.stdout.split("\n").pop() ?? "";
    if (!url.startsWith("http")) throw new Error(`opensearch.sh start printed no URL:\n${result.stderr}`);
  }
  const dataDirectory = process.env.OPENSEARCH_DATA_DIR ?? `/tmp/logship-opensearch-${port}`;
  const node: OpenSearchNode = { url, port, dataDirectory };
  if (options.secure !== true) return node;
  return {
    ...node,
    caPem: readFileSync(join(dataDirectory, "ca.pem"), "utf8"),
    user: SECURE_USER,
    password: SECURE_PASSWORD,
    jwtKey: Buffer.from(readFileSync(join(dataDirectory, "jwt.key"), "utf8").trim(), "base64"),
  };
}

/** Stops the node on that port if startOpenSearch() in this process started it. */
export function stopOpenSearch(options: OpenSearchNodeOptions = {}): void {
  if (!startedHere.delete(portOf(options))) return;
  runScript("stop", 60_000, options);
}

/** Stops the node on that port whoever started it (a test that takes its own node down on purpose). */
export function killOpenSearch(options: OpenSearchNodeOptions = {}): void {
  runScript("stop", 60_000, options);
}

/** Starts the node on that port again on its existing data (after killOpenSearch). */
export function restartOpenSearch(options: OpenSearchNodeOptions = {}): string {
  const result = runScript("start", 300_000, { ...options, fresh: false });
  if (result.status !== 0) throw new Error(`test/engines/opensearch.sh start failed (exit ${result.status}):\n${result.stderr.trim()}`);
  return result.stdout.split("\n").pop() ?? "";
}
