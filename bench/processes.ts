/**
 * Plumbing for benchmarks that run other processes (logship's bundled
 * agent and collector, Fluent Bit): a free loopback port, waiting for an
 * HTTP endpoint to answer, stopping a child, and what a process costs as
 * Linux accounts it in /proc (CPU time of all its threads, resident memory
 * now and at its peak).
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/** A port free on 127.0.0.1 right now (the OS picks it): the tests' own. */
export { freePort } from "../test/helpers/processes.ts";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux x86_64 and arm64). */
const TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  /** utime + stime of every thread, in seconds. */
  cpuSeconds: number;
  /** utime + stime of the main thread alone (Node's event loop, where JavaScript runs), in seconds. */
  mainThreadCpuSeconds: number;
  /** VmRSS: resident now, in MiB. */
  rssMb: number;
  /** VmHWM: the highest resident size the process has had, in MiB. */
  peakRssMb: number;
  /**
   * RssFile: resident pages of mapped files (the node binary's code and
   * read-only data, shared libraries), in MiB. Part of rssMb; every process
   * running the same binary maps the same pages (the kernel keeps one copy).
   */
  fileRssMb: number;
  /** RssAnon: resident pages that are the process's own (heaps, buffers, stacks), in MiB. Part of rssMb. */
  anonRssMb: number;
}

/** CPU time and resident memory of process `pid`, from /proc. */
export function usage(pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kibibytes = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return {
    cpuSeconds: cpuTicks(`/proc/${pid}/stat`) / TICKS_PER_SECOND,
    // The main thread's task id is the process id.
    mainThreadCpuSeconds: cpuTicks(`/proc/${pid}/task/${pid}/stat`) / TICKS_PER_SECOND,
    rssMb: kibibytes("VmRSS") / 1024,
    peakRssMb: kibibytes("VmHWM") / 1024,
    fileRssMb: kibibytes("RssFile") / 1024,
    anonRssMb: kibibytes("RssAnon") / 1024,
  };
}

/** utime + stime, in clock ticks, of a /proc stat file (a process's or one thread's). */
function cpuTicks(path: string): number {
  const stat = readFileSync(path, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** Poll interval of waitReady. */
const READY_POLL_MS = 50;

/** Resolves once GET `url``path` answers 2xx; throws after `timeoutMs`. */
export async function waitReady(url: string, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}${path}`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new Error(`${url}${path} not ready within ${timeoutMs} ms`);
}

/** How long stop() waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 30_000;

/** SIGTERM, and SIGKILL if the child has not exited STOP_GRACE_MS later; resolves once it has exited. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** `value` to two decimals, as the benchmark tables print figures. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Newline-terminated lines in the file at `path`. */
export function countLines(path: string): number {
  const data = readFileSync(path);
  let count = 0;
  for (let index = data.indexOf(10); index !== -1; index = data.indexOf(10, index + 1)) count++;
  return count;
}
