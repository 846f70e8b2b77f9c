/**
 * Runs a source's transform chain over the events of one decode (after
 * parsing and multiline joining, before batching). Each event is made into
 * an object once (message, fields with the rule's static fields merged as
 * blockEvents would, and what a condition may read), transformed, and put
 * back into the columns; dropped events leave the columns. The block's
 * end offset is unchanged, so dropped lines are checkpointed like shipped
 * ones: read once, never again.
 *
 * The fields that come out are the event's whole fields: the block of a
 * source with transforms carries no static fields of its own (tailer.ts),
 * so a step can change or remove a static field.
 */
import { formatTime } from "../../shared/event.ts";
import type { DecodedEvents } from "../events.ts";
import type { Decoded } from "../tail/decode.ts";
import type { TransformChain } from "./chain.ts";
import type { TransformEvent } from "./paths.ts";

/** What a stream contributes to every event of a decode. */
export interface TransformContext {
  host: string;
  source: string;
  path: string;
  staticFields: Readonly<Record<string, unknown>>;
}

/** The event a step sees; `time` and `observed_time` are formatted only if a step reads them. */
class ColumnEvent implements TransformEvent {
  readonly host: string;
  readonly source: string;
  readonly path: string;
  readonly offset: number;
  message: string;
  fields: Record<string, unknown>;
  private readonly timeMs: number | undefined;
  private readonly observedMs: number;

  constructor(context: TransformContext, offset: number, message: string, fields: Record<string, unknown>, timeMs: number | undefined, observedMs: number) {
    this.host = context.host;
    this.source = context.source;
    this.path = context.path;
    this.offset = offset;
    this.message = message;
    this.fields = fields;
    this.timeMs = timeMs;
    this.observedMs = observedMs;
  }

  get time(): string {
    return formatTime(this.timeMs ?? this.observedMs);
  }

  get observed_time(): string {
    return formatTime(this.observedMs);
  }
}

export function applyTransforms(decoded: Decoded, chain: TransformChain, context: TransformContext, nowMs: number): Decoded {
  if (decoded.count === 0) return decoded;
  const input = decoded.decoded;
  if (input === null) throw new Error("assertion failed: a source with transforms decodes its lines");
  const output: DecodedEvents = { offsets: [], messages: [], fields: [], timesMs: [] };
  const truncated = new Set(decoded.truncated);
  const truncatedOut: number[] = [];
  for (let index = 0; index < decoded.count; index++) {
    const parsed = input.fields[index];
    const offset = input.offsets[index] as number;
    const timeMs = input.timesMs[index];
    // Static fields of the rule win over parsed ones, as in blockEvents.
    const fields = parsed === undefined ? { ...context.staticFields } : { ...parsed, ...context.staticFields };
    const event = new ColumnEvent(context, offset, input.messages[index] as string, fields, timeMs, nowMs);
    if (!chain.apply(event, nowMs)) continue;
    if (truncated.has(index)) truncatedOut.push(output.offsets.length);
    output.offsets.push(offset);
    output.messages.push(event.message);
    output.fields.push(event.fields);
    output.timesMs.push(timeMs);
  }
  return { lines: null, decoded: output, truncated: truncatedOut, count: output.offsets.length };
}
