/**
 * The `transforms:` list of an agent source (docs/TRANSFORMS.md): each step
 * an object with one key naming it. Everything a step needs compiled is
 * checked here, purely, so a bad query, regex, path or template is a config
 * error at the value's line:column like any other (shared/config/load.ts);
 * chain.ts then compiles the checked text once.
 */
import { z } from "zod";
import { compileRegex } from "../../shared/config/fields.ts";
import { parseQuery, QueryError } from "../../shared/query/index.ts";
import { parserConfigSchema } from "../parsers/schema.ts";
import { parseFieldPath } from "./paths.ts";
import { BUILTIN_PATTERNS } from "./redact.ts";
import { templateError } from "./template.ts";

export const TRANSFORM_KINDS = ["drop", "keep", "set", "rename", "remove", "redact", "sample", "throttle", "parse"] as const;
export type TransformKind = (typeof TRANSFORM_KINDS)[number];

/** Distinct throttle keys tracked per second, at most; events of further keys share one overflow budget. */
export const THROTTLE_KEYS_MAX_DEFAULT = 10_000;

/** A condition in the query language (docs/QUERY.md), parsed to check it. */
export const conditionSchema = z.string().superRefine((text, ctx) => {
  try {
    parseQuery(text);
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    ctx.addIssue({ code: "custom", message: `invalid query at column ${error.column} of the condition: ${error.reason}`, input: text });
  }
});

/** A mapping whose keys are field paths: a bad key is reported at its entry with the reason. */
function pathRecordSchema<Value extends z.ZodType>(access: "read" | "write", value: Value) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      const path = parseFieldPath(key, access);
      if (typeof path === "string") ctx.addIssue({ code: "custom", path: [key], message: path, input: key });
    }
  });
}

function fieldPathSchema(access: "read" | "write") {
  return z.string().superRefine((text, ctx) => {
    const path = parseFieldPath(text, access);
    if (typeof path === "string") ctx.addIssue({ code: "custom", message: path, input: text });
  });
}

const removablePathSchema = z.string().superRefine((text, ctx) => {
  if (!text.startsWith("fields.") || text.length === "fields.".length) {
    ctx.addIssue({ code: "custom", message: `only fields can be removed: expected "fields.<name>"; got ${JSON.stringify(text)}`, input: text });
  }
});

const templateSchema = z.string().superRefine((text, ctx) => {
  const error = templateError(text);
  if (error !== null) ctx.addIssue({ code: "custom", message: error, input: text });
});

const customRegexSchema = z.string().superRefine((pattern, ctx) => {
  const compiled = compileRegex(pattern);
  if (typeof compiled === "string") ctx.addIssue({ code: "custom", message: compiled, input: pattern });
  else if (new RegExp(`^(?:${pattern})$`).test("")) ctx.addIssue({ code: "custom", message: "the regex matches the empty string: it would redact between every character", input: pattern });
});

const redactSchema = z.strictObject({
  patterns: z
    .array(
      z.union([
        z.enum(BUILTIN_PATTERNS),
        z.strictObject({
          regex: customRegexSchema.describe("A JavaScript regular expression; every match is masked."),
          name: z.string().regex(/^[A-Za-z0-9_.-]+$/).default("custom").describe("Shown in the mask: [REDACTED:<name>]."),
        }),
      ], { error: `expected a built-in pattern (${BUILTIN_PATTERNS.join(", ")}) or { regex: '...', name: ... }` }),
    )
    .min(1)
    .describe(`Built-ins (${BUILTIN_PATTERNS.join(", ")}) or {regex, name}.`),
  fields: z.array(fieldPathSchema("write")).min(1).default(["message"]).describe("Where to look: message and fields.<name> (string values)."),
});

const sampleSchema = z.strictObject({
  rate: z.int().min(1).describe("Keep 1 event in rate."),
  key: z.exactOptional(fieldPathSchema("read")).describe("Events with the same value of this field are kept or dropped together."),
  exempt: z.exactOptional(conditionSchema).describe("Events matching this condition are always kept."),
});

const throttleSchema = z.strictObject({
  per_second: z.int().min(1).describe("Events per second per key value, at most; the rest are dropped and counted."),
  key: z.exactOptional(fieldPathSchema("read")).describe("Field whose value gets its own budget (default: one budget for the source)."),
  max_keys: z.int().min(1).default(THROTTLE_KEYS_MAX_DEFAULT).describe("Key values tracked per second; beyond it the rest share one budget."),
});

const parseSchema = z
  .strictObject({
    field: fieldPathSchema("read").default("message").describe("The string to parse: message or fields.<name>."),
    parser: parserConfigSchema.describe("Any source parser but none (json, logfmt, regex, nginx, apache, syslog); its time is not applied."),
    into: z.exactOptional(fieldPathSchema("write")).describe("fields.<name> to hold the parsed fields as one object (default: merged into fields)."),
  })
  .superRefine((step, ctx) => {
    if (step.parser.type === "none") ctx.addIssue({ code: "custom", path: ["parser", "type"], message: "a parse step needs a parser other than none", input: step.parser });
    if (step.into === "message") ctx.addIssue({ code: "custom", path: ["into"], message: 'into names a field ("fields.<name>"), not message', input: step.into });
  });

export const transformStepSchema = z
  .strictObject({
    drop: z.exactOptional(conditionSchema).describe("Drop events matching this condition."),
    keep: z.exactOptional(conditionSchema).describe("Keep only events matching this condition."),
    set: z.exactOptional(pathRecordSchema("write", z.union([templateSchema, z.number(), z.boolean(), z.null()]))).describe("Set fields (or message) to a value or a template like '{fields.service}-{host}'."),
    rename: z.exactOptional(pathRecordSchema("read", fieldPathSchema("write"))).describe("Move a field's value to another name (or to message)."),
    remove: z.exactOptional(z.array(removablePathSchema).min(1)).describe("Remove fields."),
    redact: z.exactOptional(redactSchema).describe("Mask values matching patterns."),
    sample: z.exactOptional(sampleSchema).describe("Keep 1 in rate events, by a hash of key."),
    throttle: z.exactOptional(throttleSchema).describe("At most per_second events per second per key value."),
    parse: z.exactOptional(parseSchema).describe("Apply a parser to a field (structured data inside the message)."),
  })
  .superRefine((step, ctx) => {
    const kinds = TRANSFORM_KINDS.filter((kind) => step[kind] !== undefined);
    if (kinds.length !== 1) {
      const found = kinds.length === 0 ? "none" : kinds.join(" and ");
      ctx.addIssue({ code: "custom", message: `a transform step has exactly one of ${TRANSFORM_KINDS.join(", ")}; found ${found}`, input: step });
    }
  });

export const transformsSchema = z.array(transformStepSchema).describe("Steps applied in order to each event of the source (docs/TRANSFORMS.md).");

export type TransformStepConfig = z.output<typeof transformStepSchema>;
export type TransformsConfig = z.output<typeof transformsSchema>;
