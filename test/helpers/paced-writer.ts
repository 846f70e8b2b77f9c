/**
 * A writer that appends numbered lines to a file at a steady rate, the way
 * a busy service logs (the live tail's test and benchmark: 2,000 lines/s).
 * Every WRITE_INTERVAL_MS it appends the lines that are due since it
 * started, so a late tick (a busy machine) catches up instead of slowing
 * the rate down; one appendFile per tick.
 */
import { appendFile } from "node:fs/promises";

/** How often the writer appends (at 2,000 lines/s: 20 lines a write). */
export const WRITE_INTERVAL_MS = 10;

export interface PacedWrite {
  linesPerSecond: number;
  /** Lines to write in all (numbered 0 … lines − 1). */
  lines: number;
  /** The text of line `sequence`, without its newline. */
  line: (sequence: number) => string;
  signal?: AbortSignal;
}

/** Appends `lines` lines to `path` at `linesPerSecond`; resolves with the lines written once done (or aborted). */
export async function writePaced(path: string, options: PacedWrite): Promise<number> {
  const startedMs = performance.now();
  let written = 0;
  while (written < options.lines && options.signal?.aborted !== true) {
    const due = Math.min(options.lines, Math.floor(((performance.now() - startedMs) * options.linesPerSecond) / 1000));
    if (due > written) {
      let text = "";
      for (let sequence = written; sequence < due; sequence++) text += `${options.line(sequence)}\n`;
      await appendFile(path, text);
      written = due;
    }
    await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS));
  }
  return written;
}
