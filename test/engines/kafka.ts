/**
 * The real Apache Kafka broker (test/engines/kafka.sh) and the real `kcat`
 * client, for integration tests and the Kafka benchmark.
 *
 * startKafka() runs `kafka.sh start` (downloads Kafka's jars from Maven
 * Central the first time; a failure there throws with the script's output)
 * and returns the bootstrap address. stopKafka() stops the broker only if
 * this process started it, so a broker someone left running for a dev loop
 * survives a test run. `port` picks another broker than the shared one on
 * 29092 (its own data dir, /tmp/logship-kafka-<port>): a test that stops its
 * broker on purpose uses one of its own.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { aptInstall } from "../helpers/apt.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const KAFKA_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "kafka.sh");

export const KAFKA_PORT_DEFAULT = 29092;

/** Ports of the brokers this process started. */
const startedHere = new Set<number>();

function runScript(command: "start" | "stop" | "status", timeoutMs: number, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", [KAFKA_SCRIPT, command], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, ...env } });
  if (result.error) throw new Error(`kafka.sh ${command}: ${result.error.message}\n${result.stderr ?? ""}`);
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

/** Bootstrap address of a running broker, or null. */
export function kafkaStatus(port = KAFKA_PORT_DEFAULT): string | null {
  const result = runScript("status", 10_000, { KAFKA_PORT: String(port) });
  return result.status === 0 ? result.stdout.split("\n").pop() ?? null : null;
}

/**
 * Returns "127.0.0.1:PORT" of the local broker: a running one as it is, or
 * one started now (downloading Kafka if needed) on an empty data dir unless
 * `fresh` is false.
 */
export function startKafka(options: { fresh?: boolean; port?: number } = {}): string {
  const port = options.port ?? KAFKA_PORT_DEFAULT;
  const already = kafkaStatus(port);
  if (already !== null) return already;
  const result = runScript("start", 600_000, { KAFKA_FRESH: options.fresh === false ? "0" : "1", KAFKA_PORT: String(port) });
  if (result.status !== 0) {
    throw new Error(`test/engines/kafka.sh start failed (exit ${result.status}):\n${result.stderr.trim()}`);
  }
  startedHere.add(port);
  const bootstrap = result.stdout.split("\n").pop();
  if (!bootstrap) throw new Error(`kafka.sh start printed no bootstrap address:\n${result.stderr}`);
  return bootstrap;
}

/** Stops the broker on `port` if startKafka() in this process started it. */
export function stopKafka(port = KAFKA_PORT_DEFAULT): void {
  if (!startedHere.delete(port)) return;
  runScript("stop", 60_000, { KAFKA_PORT: String(port) });
}

function onPath(name: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/** Path of `kcat`; installs Debian's `kafkacat` package (apt-get, as root) when missing. */
export function ensureKcat(): string {
  let path = onPath("kcat") ?? onPath("kafkacat");
  if (path !== null) return path;
  aptInstall("kafkacat");
  path = onPath("kcat") ?? onPath("kafkacat");
  if (path === null) throw new Error("installed Debian's kafkacat but neither kcat nor kafkacat is on PATH");
  return path;
}
