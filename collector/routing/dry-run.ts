/**
 * `logship collector --config F --dry-run [--input FILE]`: the collector's
 * transforms and routes over events given as NDJSON (what `logship agent
 * --dry-run` or `logship log dump` print), each kept event printed with the
 * stream it would be stored in. Nothing is stored, nothing listens. So an
 * operator sees the effect of both ends before deploying:
 *
 *   logship agent --config agent.yaml --dry-run --once | logship collector --config collector.yaml --dry-run
 *
 * A line that is not an event is reported on stderr with its number and
 * skipped (the run then ends with exit code 1); the other lines go on.
 */
import type { Event } from "../../shared/event.ts";
import { compileTransforms } from "../../agent/transforms/chain.ts";
import type { ProcessingConfig } from "./processing.ts";
import { compileRoutes } from "./router.ts";
import { DEFAULT_STREAM } from "./streams.ts";

export interface DryRunTotals {
  /** Lines that were events. */
  events: number;
  /** Events printed (the transforms kept them). */
  kept: number;
  /** Lines that were not events (reported and skipped). */
  badLines: number;
  /** Kept events per stream. */
  streams: Record<string, number>;
}

export async function collectorDryRun(options: { processing: ProcessingConfig; lines: AsyncIterable<string>; writeOut: (text: string) => void; writeErr: (text: string) => void; nowMs?: () => number }): Promise<DryRunTotals> {
  const chain = compileTransforms(options.processing.transforms);
  const router = compileRoutes(options.processing.routes);
  const nowMs = options.nowMs ?? Date.now;
  const totals: DryRunTotals = { events: 0, kept: 0, badLines: 0, streams: {} };
  let lineNumber = 0;
  for await (const line of options.lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const event = parseEvent(line);
    if (typeof event === "string") {
      totals.badLines++;
      options.writeErr(`logship: input line ${lineNumber}: ${event}; skipped\n`);
      continue;
    }
    totals.events++;
    if (chain !== null && !chain.apply(event, nowMs())) continue;
    const stream = router(event);
    totals.kept++;
    totals.streams[stream] = (totals.streams[stream] ?? 0) + 1;
    // As sinks and `log dump` show it: `stream` only for a stream other than the default.
    options.writeOut(JSON.stringify(stream === DEFAULT_STREAM ? event : { ...event, stream }) + "\n");
  }
  return totals;
}

/** An event as the agent's dry run prints it (a `tenant` from `log dump` is kept as is), or why the line is not one. */
function parseEvent(line: string): Event | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const event = value as Record<string, unknown>;
  for (const key of ["message", "host", "source", "path", "time", "observed_time"]) {
    if (typeof event[key] !== "string") return `${key} is not a string (an event has message, host, source, path, time, observed_time, offset and fields)`;
  }
  if (typeof event["offset"] !== "number") return "offset is not a number";
  if (typeof event["fields"] !== "object" || event["fields"] === null || Array.isArray(event["fields"])) return "fields is not an object";
  delete event["stream"];
  return event as unknown as Event;
}
