/**
 * The real Apache Kafka broker (test/engines/kafka.sh) and the real `kcat`
 * client, for integration tests and the Kafka benchmark.
 *
 * startKafka() runs `kafka.sh start` (downloads Kafka's jars from Maven
 * Central the first time; a failure there throws with the script's output)
 * and returns the bootstrap address. stopKafka() stops the broker only if
 * this process started it, so a broker someone left running for a dev loop
 * survives a test run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { aptInstall } from "../helpers/apt.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const KAFKA_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "kafka.sh");

let startedHere = false;

function runScript(command: "start" | "stop" | "status", timeoutMs: number, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", [KAFKA_SCRIPT, command], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env, ...env } });
  if (result.error) throw new Error(`kafka.sh ${command}: ${result.error.message}\n${result.stderr ?? ""}`);
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

/** Bootstrap address of a running broker, or null. */
export function kafkaStatus(): string | null {
  const result = runScript("status", 10_000);
  return result.status === 0 ? result.stdout.split("\n").pop() ?? null : null;
}

/**
 * Returns "127.0.0.1:PORT" of the local broker: a running one as it is, or
 * one started now (downloading Kafka if needed) on an empty data dir unless
 * `fresh` is false.
 */
export function startKafka(options: { fresh?: boolean } = {}): string {
  const already = kafkaStatus();
  if (already !== null) return already;
  const result = runScript("start", 600_000, { KAFKA_FRESH: options.fresh === false ? "0" : "1" });
  if (result.status !== 0) {
    throw new Error(`test/engines/kafka.sh start failed (exit ${result.status}):\n${result.stderr.trim()}`);
  }
  startedHere = true;
  const bootstrap = result.stdout.split("\n").pop();
  if (!bootstrap) throw new Error(`kafka.sh start printed no bootstrap address:\n${result.stderr}`);
  return bootstrap;
}

/** Stops the broker if startKafka() in this process started it. */
export function stopKafka(): void {
  if (!startedHere) return;
  startedHere = false;
  runScript("stop", 60_000);
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
