/**
 * Runs a source's transform chain over the events of one decode (after
 * parsing and multiline joining, before batching). Each event is made into
 * an object once (message, fields with the rule's static fields merged as
 * blockEvents would, and what a condition may read), transformed, and put
 * back into the columns; dropped events leave the columns. The block's
 * end offset is unchanged, so dropped lines are checkpointed like shipped
 * ones: read once, never again.
 *
 * When a step may write fields (TransformChain.writesFields), the fields
 * that come out are the event's whole fields: the stream then carries no
 * static fields of its own (tailer.ts), so a step can change or remove a
 * static field. Otherwise the event's fields object is made only if a step
 * reads it, and what comes out is the event's parsed fields as they were:
 * the static fields go in the stream's fields (TransformChain.streamFields).
 */
import { formatTime } from "../../shared/event.ts";
import { ASCII_MESSAGE } from "../../shared/wire/batch.ts";
import type { DecodedEvents } from "../events.ts";
import type { Decoded } from "../tail/decode.ts";
import type { StreamContext, TransformChain } from "./chain.ts";
import type { TransformEvent } from "./paths.ts";

/** What a stream contributes to every event of a decode. */
export interface TransformContext extends StreamContext {
  staticFields: Readonly<Record<string, unknown>>;
}

/**
 * The event a step sees; `time`, `observed_time` and `fields` are made only
 * if a step reads them. One per decode, moved from event to event (`next`):
 * steps run one event at a time and keep no reference to it.
 */
class ColumnEvent implements TransformEvent {
  readonly host: string;
  readonly source: string;
  readonly path: string;
  private readonly staticFields: Readonly<Record<string, unknown>>;
  private readonly observedMs: number;
  offset = 0;
  message = "";
  private parsed: Record<string, unknown> | undefined = undefined;
  private merged: Record<string, unknown> | undefined = undefined;
  private timeMs: number | undefined = undefined;

  constructor(context: TransformContext, observedMs: number) {
    this.host = context.host;
    this.source = context.source;
    this.path = context.path;
    this.staticFields = context.staticFields;
    this.observedMs = observedMs;
  }

  next(offset: number, message: string, parsed: Record<string, unknown> | undefined, timeMs: number | undefined): this {
    this.offset = offset;
    this.message = message;
    this.parsed = parsed;
    this.merged = undefined;
    this.timeMs = timeMs;
    return this;
  }

  /** Static fields of the rule win over parsed ones, as in blockEvents. */
  get fields(): Record<string, unknown> {
    return (this.merged ??= this.parsed === undefined ? { ...this.staticFields } : { ...this.parsed, ...this.staticFields });
  }

  set fields(fields: Record<string, unknown>) {
    this.merged = fields;
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
  // A message a step leaves as it was keeps its line's bytes (DecodedEvents.verbatim).
  const verbatimIn = input.verbatim;
  const verbatimOut = verbatimIn === undefined ? undefined : { ...verbatimIn, lines: [] as number[] };
  output.verbatim = verbatimOut;
  const truncated = new Set(decoded.truncated);
  const truncatedOut: number[] = [];
  const writesFields = chain.writesFields;
  const keepsAscii = chain.keepsAsciiMessages;
  const cursor = new ColumnEvent(context, nowMs);
  for (let index = 0; index < decoded.count; index++) {
    const parsed = input.fields[index];
    const offset = input.offsets[index] as number;
    const timeMs = input.timesMs[index];
    const message = input.messages[index] as string;
    const event = cursor.next(offset, message, parsed, timeMs);
    if (!chain.apply(event, nowMs)) continue;
    if (truncated.has(index)) truncatedOut.push(output.offsets.length);
    if (verbatimOut !== undefined) {
      const line = (verbatimIn as NonNullable<typeof verbatimIn>).lines[index] as number;
      // A changed message of an ASCII line stays ASCII when the chain says so.
      verbatimOut.lines.push(event.message === message ? line : line >= 0 && keepsAscii ? ASCII_MESSAGE : -1);
    }
    output.offsets.push(offset);
    output.messages.push(event.message);
    output.fields.push(writesFields ? event.fields : parsed);
    output.timesMs.push(timeMs);
  }
  return { lines: null, decoded: output, truncated: truncatedOut, count: output.offsets.length };
}
