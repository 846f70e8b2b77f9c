/**
 * A source's transform steps compiled into one function over an event
 * (docs/TRANSFORMS.md). Compiled once when the rule is built: queries,
 * regexes, paths and templates are parsed there, so per event each step is
 * a few property reads and calls. Each step counts what it did (dropped
 * events; redactions), for the agent's status and metrics.
 *
 * Stream-level tail (the agent asks for it): trailing `set` steps whose
 * every value is the same for all events of a file stream (constants,
 * templates of host, source and path) into top-level `fields.<name>` keys
 * are not run per event: their values go into the stream's fields in the
 * batch header once (`streamFields`), which readers merge over each event's
 * fields, as a set run last would. When no step run per event writes fields, the rule's
 * static fields go there too and events carry only their parsed fields
 * (`writesFields`): no object and no JSON per event for fields every event
 * of the stream shares.
 */
import { compileQuery, FIELDS_PREFIX, parseQuery, type EventPredicate } from "../../shared/query/index.ts";
import { buildParser } from "../parsers/index.ts";
import { checkedFieldPath, type FieldPath, getPath, removePath, setPath, type TransformEvent, valueText } from "./paths.ts";
import { redactPatterns, redactText } from "./redact.ts";
import { TRANSFORM_KINDS, type TransformKind, type TransformStepConfig, type TransformsConfig } from "./schema.ts";
import { compileTemplate, isConstant, isStreamConstant, renderTemplate, type Template, templateRenderer } from "./template.ts";

/** What one step did since the rule was built. */
export interface TransformStepCounts {
  /** `<index>_<kind>`, e.g. `0_drop`: a bounded metric label, unique within the source. */
  step: string;
  kind: TransformKind;
  /** Events the step dropped (drop, keep, sample, throttle). */
  dropped: number;
  /** Matches the step masked (redact). */
  redactions: number;
  /** Events in which it masked at least one match (redact). */
  redactedEvents: number;
  /** Events whose field did not parse (parse; the event goes on unchanged). */
  parseFailures: number;
}

/** Runs one step; false drops the event. */
type StepFunction = (event: TransformEvent, nowMs: number) => boolean;

export interface TransformChainOptions {
  /**
   * Leave the stream-level tail out of `apply`, for `streamFields` to
   * return (the agent, whose batches carry fields per stream). Default
   * false: `apply` runs every step (the collector).
   */
  streamLevelTail?: boolean;
}

/** What a file stream gives every one of its events. */
export interface StreamContext {
  host: string;
  source: string;
  path: string;
}

export class TransformChain {
  readonly counts: readonly TransformStepCounts[];
  /**
   * True when a step run per event may change fields: each event then
   * carries its whole fields (the rule's static fields merged in before the
   * steps), and the stream only the stream-level tail's values.
   */
  readonly writesFields: boolean;
  /**
   * True when no step can put a character outside ASCII into a message that
   * had none: the steps leave the message alone, or mask parts of it with
   * ASCII (`redact`). The agent then writes a changed message of an ASCII
   * line as one byte per character (shared/wire/batch.ts ASCII_MESSAGE).
   */
  readonly keepsAsciiMessages: boolean;
  private readonly steps: readonly StepFunction[];
  /** The stream-level tail's assignments, in order (a later one wins). */
  private readonly streamAssignments: readonly { key: string; value: string | number | boolean | null | Template }[];

  constructor(config: TransformsConfig, options: TransformChainOptions = {}) {
    const counts: TransformStepCounts[] = [];
    const steps: StepFunction[] = [];
    const streamLevelFrom = options.streamLevelTail === true ? streamLevelStart(config) : config.length;
    const streamAssignments: { key: string; value: string | number | boolean | null | Template }[] = [];
    let writesFields = false;
    let keepsAsciiMessages = true;
    for (const [index, stepConfig] of config.entries()) {
      const kind = stepKind(stepConfig);
      const stepCounts: TransformStepCounts = { step: `${index}_${kind}`, kind, dropped: 0, redactions: 0, redactedEvents: 0, parseFailures: 0 };
      counts.push(stepCounts);
      if (index >= streamLevelFrom) {
        for (const [target, value] of Object.entries(stepConfig.set as SetAssignments)) {
          streamAssignments.push({ key: target.slice(FIELDS_PREFIX.length), value: typeof value === "string" ? compileTemplate(value) : value });
        }
        continue;
      }
      writesFields ||= stepWritesFields(stepConfig, kind);
      keepsAsciiMessages &&= stepKeepsAsciiMessages(stepConfig, kind);
      steps.push(compileStep(stepConfig, kind, stepCounts));
    }
    this.keepsAsciiMessages = keepsAsciiMessages;
    this.counts = counts;
    this.steps = steps;
    this.streamAssignments = streamAssignments;
    this.writesFields = writesFields;
  }

  /**
   * The fields the batch header carries for a stream of this rule: the
   * stream-level tail's values, over the rule's static fields unless a step
   * run per event writes fields (then each event carries those).
   */
  streamFields(context: StreamContext, staticFields: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const fields: Record<string, unknown> = this.writesFields ? {} : { ...staticFields };
    const event = { ...context, offset: 0, time: "", observed_time: "", message: "", fields: {} };
    for (const { key, value } of this.streamAssignments) fields[key] = Array.isArray(value) ? renderTemplate(value as Template, event) : value;
    return fields;
  }

  /** Applies every step in order to `event` (changing it); false: a step dropped it. */
  apply(event: TransformEvent, nowMs: number): boolean {
    for (const step of this.steps) if (!step(event, nowMs)) return false;
    return true;
  }
}

/** The chain of a source's `transforms:`, or null when it has none. */
export function compileTransforms(config: TransformsConfig, options: TransformChainOptions = {}): TransformChain | null {
  return config.length === 0 ? null : new TransformChain(config, options);
}

type SetAssignments = Record<string, string | number | boolean | null>;

/**
 * Index of the first step of the stream-level tail (config.length when
 * there is none): the trailing `set` steps whose every assignment is a
 * top-level `fields.<name>` (no dot: a dotted key could reach into a nested
 * object of an event) with a stream-constant value.
 */
function streamLevelStart(config: TransformsConfig): number {
  let start = config.length;
  while (start > 0) {
    const assignments = config[start - 1]?.set;
    if (assignments === undefined) break;
    const streamLevel = Object.entries(assignments).every(
      ([target, value]) => target.startsWith(FIELDS_PREFIX) && !target.slice(FIELDS_PREFIX.length).includes(".") && (typeof value !== "string" || isStreamConstant(compileTemplate(value))),
    );
    if (!streamLevel) break;
    start--;
  }
  return start;
}

/** True when the step, run per event, may add, change or remove a field. */
function stepWritesFields(step: TransformStepConfig, kind: TransformKind): boolean {
  switch (kind) {
    case "set":
      return Object.keys(step.set as SetAssignments).some((target) => target !== "message");
    case "redact":
      return (step.redact as NonNullable<TransformStepConfig["redact"]>).fields.some((target) => target !== "message");
    case "rename":
    case "remove":
    case "parse":
      return true;
    case "drop":
    case "keep":
    case "sample":
    case "throttle":
      return false;
  }
}

/** True when the step cannot make an ASCII message into one with other characters (TransformChain.keepsAsciiMessages). */
function stepKeepsAsciiMessages(step: TransformStepConfig, kind: TransformKind): boolean {
  switch (kind) {
    case "set":
      return !Object.hasOwn(step.set as SetAssignments, MESSAGE_PATH);
    case "rename":
      return Object.entries(step.rename as Record<string, string>).every(([from, to]) => from !== MESSAGE_PATH && to !== MESSAGE_PATH);
    case "parse":
      return (step.parse as NonNullable<TransformStepConfig["parse"]>).field !== MESSAGE_PATH;
    case "redact":
    // The mask is `[REDACTED:<name>]`, and pattern names are ASCII (schema.ts).
    case "remove":
    // Only fields can be removed (schema.ts).
    case "drop":
    case "keep":
    case "sample":
    case "throttle":
      return true;
  }
}

const MESSAGE_PATH = "message";

function stepKind(step: TransformStepConfig): TransformKind {
  const kind = TRANSFORM_KINDS.find((candidate) => step[candidate] !== undefined);
  if (kind === undefined) throw new Error("assertion failed: the schema lets only steps with one kind through");
  return kind;
}

function condition(text: string): EventPredicate {
  return compileQuery(parseQuery(text));
}

function compileStep(step: TransformStepConfig, kind: TransformKind, counts: TransformStepCounts): StepFunction {
  switch (kind) {
    case "drop":
    case "keep": {
      const predicate = condition(step[kind] as string);
      const keepWhen = kind === "keep";
      return (event) => {
        if (predicate(event) === keepWhen) return true;
        counts.dropped++;
        return false;
      };
    }
    case "set":
      return compileSet(step.set as Record<string, string | number | boolean | null>);
    case "rename":
      return compileRename(step.rename as Record<string, string>);
    case "remove": {
      const paths = (step.remove as string[]).map((text) => checkedFieldPath(text, "write"));
      return (event) => {
        for (const path of paths) removePath(event, path);
        return true;
      };
    }
    case "redact":
      return compileRedact(step.redact as NonNullable<TransformStepConfig["redact"]>, counts);
    case "sample":
      return compileSample(step.sample as NonNullable<TransformStepConfig["sample"]>, counts);
    case "throttle":
      return compileThrottle(step.throttle as NonNullable<TransformStepConfig["throttle"]>, counts);
    case "parse":
      return compileParse(step.parse as NonNullable<TransformStepConfig["parse"]>, counts);
  }
}

/**
 * A parser over one field's string: the parsed fields are merged into
 * `fields` (or set as one object at `into`); a message the format names
 * (json's message key) replaces the message when the field parsed was the
 * message. The parsed time is not applied: the event's time was settled
 * when it was read. A value that does not parse leaves the event as it was
 * and is counted.
 */
function compileParse(config: NonNullable<TransformStepConfig["parse"]>, counts: TransformStepCounts): StepFunction {
  const field = checkedFieldPath(config.field, "read");
  const into = config.into === undefined ? undefined : checkedFieldPath(config.into, "write");
  const parser = buildParser(config.parser);
  const fromMessage = field.kind === "top" && field.name === "message";
  return (event, nowMs) => {
    const value = getPath(event, field);
    if (typeof value !== "string") return true;
    const parsed = parser.parse(value, nowMs);
    if (!parsed.ok) {
      counts.parseFailures++;
      return true;
    }
    if (into === undefined) Object.assign(event.fields, parsed.fields);
    else setPath(event, into, parsed.fields);
    if (fromMessage && parsed.message !== undefined) event.message = parsed.message;
    return true;
  };
}

function compileSet(assignments: SetAssignments): StepFunction {
  const compiled = Object.entries(assignments).map(([target, value]) => {
    const path = checkedFieldPath(target, "write");
    if (typeof value !== "string") return { path, value: () => value };
    const template = compileTemplate(value);
    if (isConstant(template)) {
      const text = value.replaceAll("{{", "{").replaceAll("}}", "}");
      return { path, value: () => text };
    }
    return { path, value: templateRenderer(template) };
  });
  // Reused by every event (steps run one event at a time): no array per event.
  const values: unknown[] = new Array<unknown>(compiled.length);
  return (event) => {
    // Every value is read before any is written: assignments see the event as the step found it.
    for (let index = 0; index < compiled.length; index++) values[index] = (compiled[index] as (typeof compiled)[number]).value(event);
    for (let index = 0; index < compiled.length; index++) setPath(event, (compiled[index] as (typeof compiled)[number]).path, values[index]);
    return true;
  };
}

function compileRename(renames: Record<string, string>): StepFunction {
  const compiled = Object.entries(renames).map(([from, to]) => ({ from: checkedFieldPath(from, "read"), to: checkedFieldPath(to, "write") }));
  return (event) => {
    for (const { from, to } of compiled) {
      const value = getPath(event, from);
      if (value === undefined) continue;
      if (from.kind === "field") removePath(event, from);
      setPath(event, to, value);
    }
    return true;
  };
}

function compileRedact(config: NonNullable<TransformStepConfig["redact"]>, counts: TransformStepCounts): StepFunction {
  const patterns = redactPatterns(config.patterns);
  const paths = config.fields.map((text) => checkedFieldPath(text, "write"));
  return (event) => {
    let redactions = 0;
    for (const path of paths) {
      const value = getPath(event, path);
      if (typeof value !== "string") continue;
      const result = redactText(value, patterns);
      if (result.redactions === 0) continue;
      redactions += result.redactions;
      setPath(event, path, result.text);
    }
    if (redactions > 0) {
      counts.redactions += redactions;
      counts.redactedEvents++;
    }
    return true;
  };
}

/**
 * Keeps an event when the 32-bit FNV-1a hash of its key value is 0 mod
 * rate: the same value is kept or dropped on every host and every run, so
 * the events of one trace stay together. Without a key (or a value), every
 * rate-th such event is kept.
 */
function compileSample(config: NonNullable<TransformStepConfig["sample"]>, counts: TransformStepCounts): StepFunction {
  const rate = config.rate;
  const key: FieldPath | null = config.key === undefined ? null : checkedFieldPath(config.key, "read");
  const exempt = config.exempt === undefined ? null : condition(config.exempt);
  let unkeyed = 0;
  return (event) => {
    if (rate === 1 || (exempt !== null && exempt(event))) return true;
    const value = key === null ? undefined : getPath(event, key);
    let kept: boolean;
    if (value === undefined || value === null) kept = unkeyed++ % rate === 0;
    else kept = fnv1a(valueText(value)) % rate === 0;
    if (!kept) counts.dropped++;
    return kept;
  };
}

/** 32-bit FNV-1a over UTF-16 code units: stable, cheap, spreads short keys well. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * At most per_second events per key value in each one-second window of read
 * time (fixed windows: the counts start over each second). Key values seen
 * in a window are bounded by max_keys; beyond it further values share one
 * budget, so memory does not grow with the key's cardinality.
 */
function compileThrottle(config: NonNullable<TransformStepConfig["throttle"]>, counts: TransformStepCounts): StepFunction {
  const limit = config.per_second;
  const keysMax = config.max_keys;
  const key: FieldPath | null = config.key === undefined ? null : checkedFieldPath(config.key, "read");
  const OVERFLOW = "\u0000overflow";
  let windowSecond = Number.NaN;
  const seen = new Map<string, number>();
  return (event, nowMs) => {
    const second = Math.floor(nowMs / 1000);
    if (second !== windowSecond) {
      windowSecond = second;
      seen.clear();
    }
    let value = key === null ? "" : valueText(getPath(event, key));
    if (!seen.has(value) && seen.size >= keysMax) value = OVERFLOW;
    const count = (seen.get(value) ?? 0) + 1;
    seen.set(value, count);
    if (count <= limit) return true;
    counts.dropped++;
    return false;
  };
}
