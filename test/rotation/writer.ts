/**
 * A log-writing application for the rotation test, run as a child process:
 * appends `count` numbered lines (`seq=<n> <padding>`) to `path` over about
 * `durationMs`, in batches of at most 100 lines, each batch one write(2).
 *
 * Like a real daemon it keeps its file open (O_APPEND). With `--reopen-on
 * SIGUSR1` it reopens the path on that signal, as nginx does for logrotate's
 * `create` mode (the config's postrotate sends it); lines written between the
 * rename and the reopen land in the renamed file. Without it (copytruncate
 * mode) it never reopens: the truncated file is written at its new end.
 *
 * When done it prints a JSON report line and exits once stdin closes.
 *
 *   node writer.ts PATH COUNT DURATION_MS [--reopen-on-usr1]
 */
import { closeSync, openSync, writeSync } from "node:fs";

export const PADDING = "abcdefghij".repeat(8);
export const BATCH_LINES = 100;

export function lineFor(seq: number): string {
  return `seq=${seq} ${PADDING}`;
}

async function main(): Promise<void> {
  const [path, countText, durationText, flag] = process.argv.slice(2);
  if (path === undefined || countText === undefined || durationText === undefined) throw new Error("usage: writer.ts PATH COUNT DURATION_MS [--reopen-on-usr1]");
  const count = Number(countText);
  const durationMs = Number(durationText);
  let fd = openSync(path, "a");
  let reopens = 0;
  if (flag === "--reopen-on-usr1") {
    process.on("SIGUSR1", () => {
      const fresh = openSync(path, "a");
      closeSync(fd);
      fd = fresh;
      reopens++;
    });
  }
  const startMs = Date.now();
  let next = 0;
  while (next < count) {
    const due = Math.min(count, Math.ceil(((Date.now() - startMs) / durationMs) * count));
    while (next < due) {
      const end = Math.min(due, next + BATCH_LINES);
      let text = "";
      for (let seq = next; seq < end; seq++) text += lineFor(seq) + "\n";
      const bytes = Buffer.from(text);
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      next = end;
    }
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  closeSync(fd);
  process.stdout.write(JSON.stringify({ lines: next, reopens, ms: Date.now() - startMs }) + "\n");
  // Stay until the parent closes stdin: it stops logrotate first, so that no
  // postrotate signal can reach this process while it exits (Node restores
  // the default disposition, which terminates, on its way out).
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("close", resolve));
}

if (import.meta.main) await main();
