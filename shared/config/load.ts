/**
 * Loads a YAML config file against a zod schema and reports every problem at
 * once, each with file, line:column and key path, e.g.
 *
 *   agent.yaml:12:5: sources[0].parser.type: Invalid option: expected one of ...
 *
 * Steps: parse YAML keeping node ranges → expand `${VAR}` in string scalars
 * (see env.ts) → convert to plain JS → validate. YAML syntax errors stop
 * before validation; everything else is collected. Validation is pure: the
 * only I/O is reading the file in `loadConfigFile`.
 */
import { readFileSync } from "node:fs";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { expandEnv, maskEnvReferences, unmaskEnvReferences } from "./env.ts";
import type { Env } from "./env.ts";
import { suggestKey } from "./suggest.ts";

export interface ConfigIssue {
  /** The file name as given to the loader. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Key path like `sources[0].parser.type`; "" for the whole document or a syntax error. */
  path: string;
  message: string;
}

export type ConfigLoadResult<T> = { ok: true; config: T } | { ok: false; issues: ConfigIssue[] };

/** `agent.yaml:12:5: sources[0].parser.type: <message>` (the path part is left out when empty). */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === "" ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** Reads and validates `file`. Throws ConfigError only when the file cannot be read. */
export function loadConfigFile<T>(file: string, schema: z.ZodType<T>, env: Env): ConfigLoadResult<T> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`cannot read config file ${file}: ${reason}`, { cause: error });
  }
  return loadConfigText(text, file, schema, env);
}

/** Validates YAML `text` as if read from `fileName`. */
export function loadConfigText<T>(text: string, fileName: string, schema: z.ZodType<T>, env: Env): ConfigLoadResult<T> {
  const parsed = parseConfigYaml(text, fileName, env);
  if (!parsed.ok) return parsed;
  const { document, locate, envIssues } = parsed;
  if (document.contents === null) {
    return { ok: false, issues: [{ file: fileName, line: 1, column: 1, path: "", message: "the config is empty; expected a mapping of keys" }] };
  }
  const result = schema.safeParse(document.toJS({ maxAliasCount: 100 }), { error: describeUnknownKeys });
  if (result.success && envIssues.length === 0) return { ok: true, config: result.data };
  // A value whose expansion failed still holds its `${...}` text; its schema complaint would only confuse.
  const failedPaths = new Set(envIssues.map((issue) => issue.path));
  const schemaIssues = result.success ? [] : result.error.issues.flatMap((issue) => toConfigIssues(issue, locate));
  const issues = [...envIssues, ...schemaIssues.filter((issue) => !failedPaths.has(issue.path))];
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, issues };
}

/** A YAML document with env references expanded, plus a way to find any key path in the source. */
export type ParsedConfigYaml =
  | {
      ok: true;
      /** Env references expanded, except in scalars whose expansion failed (those keep their text). */
      document: Document.Parsed;
      /** Problems expanding env references; validation can still go on. */
      envIssues: ConfigIssue[];
      locate: (path: readonly PropertyKey[], at: "key" | "value") => ConfigIssue;
    }
  | { ok: false; issues: ConfigIssue[] };

/** Parses YAML and expands env references; exported for callers that look at the raw document first (kind detection). */
export function parseConfigYaml(text: string, fileName: string, env: Env): ParsedConfigYaml {
  const lineCounter = new LineCounter();
  const { masked, references } = maskEnvReferences(text);
  const document = parseDocument(masked, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: fileName, line, column: col };
  };
  if (document.errors.length > 0) {
    return { ok: false, issues: document.errors.map((error) => ({ ...at(error.pos[0]), path: "", message: `YAML syntax: ${error.message}` })) };
  }
  const envIssues: ConfigIssue[] = [];
  visit(document, {
    Scalar(key, node, ancestors) {
      if (typeof node.value !== "string") return;
      const original = unmaskEnvReferences(node.value, references);
      if (key === "key" || !original.includes("$")) {
        node.value = original;
        return;
      }
      const expansion = expandEnv(original, env);
      if (!expansion.ok) {
        const path = formatPath(pathOf(ancestors, node));
        for (const message of expansion.errors) envIssues.push({ ...at(node.range?.[0] ?? 0), path, message });
        node.value = original;
        return;
      }
      node.value = retype(expansion.value, node);
    },
  });
  const locate = (path: readonly PropertyKey[], where: "key" | "value"): ConfigIssue => {
    const offset = offsetOf(document, path, where);
    return { ...at(offset), path: formatPath(path), message: "" };
  };
  return { ok: true, document, envIssues, locate };
}

/**
 * An unquoted scalar whose whole text came from the environment is read the
 * way YAML would have read it, so `level: ${ZSTD_LEVEL:-3}` is the number 3.
 * Only numbers and booleans change type; everything else stays a string.
 */
function retype(expanded: string, node: Scalar): unknown {
  if (node.type !== Scalar.PLAIN) return expanded;
  if (/^(true|false)$/.test(expanded)) return expanded === "true";
  if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(expanded)) return Number(expanded);
  return expanded;
}

/** The key path of `node`, from the ancestors `visit` passes. */
function pathOf(ancestors: readonly unknown[], node: unknown): PropertyKey[] {
  const path: PropertyKey[] = [];
  const chain = [...ancestors, node];
  for (let index = 1; index < chain.length; index++) {
    const parent = chain[index - 1];
    const child = chain[index];
    if (isPair(parent)) continue;
    if (isMap(parent) && isPair(child)) path.push(keyOf(child.key));
    if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
  }
  return path;
}

function keyOf(key: unknown): PropertyKey {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/**
 * The source offset of a key path: the value's start, or the key's when asked
 * (unknown keys) or when the value is absent or empty. A path that leaves the
 * document (a missing key) falls back to the nearest existing parent.
 */
function offsetOf(document: Document.Parsed, path: readonly PropertyKey[], where: "key" | "value"): number {
  let node: unknown = document.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(document);
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyOf(item.key) === String(segment));
      if (pair === undefined) return offset;
      const keyOffset = rangeStart(pair.key);
      const valueOffset = hasContent(pair.value) ? rangeStart(pair.value) : undefined;
      offset = (last && where === "key" ? keyOffset : (valueOffset ?? keyOffset)) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) return offset;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== "object" || !("range" in node)) return undefined;
  const range = (node as YamlNode).range;
  return range?.[0];
}

function hasContent(node: unknown): boolean {
  if (node === null || node === undefined) return false;
  if (isScalar(node)) return node.value !== null || (node.source ?? "") !== "";
  return true;
}

/** `sources[0].parser.type`; keys that are not identifiers are quoted: `fields["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/**
 * Messages the loader words itself: a missing required key, and unknown keys.
 * Zod reports unknown keys as one issue per object. We want one line per key
 * with a suggestion, so the message carries one line per key, in `keys` order.
 */
function describeUnknownKeys(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type" && issue.input === undefined) return `required key is missing (expected ${issue.expected})`;
  if (issue.code !== "unrecognized_keys") return undefined;
  const definition = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
  const validKeys = Object.keys(definition?.shape ?? {});
  return issue.keys.map((key) => unknownKeyMessage(key, validKeys)).join("\n");
}

export function unknownKeyMessage(key: string, validKeys: readonly string[]): string {
  const suggestion = suggestKey(key, validKeys);
  return suggestion === undefined ? `unknown key ${JSON.stringify(key)}` : `unknown key ${JSON.stringify(key)}; did you mean ${JSON.stringify(suggestion)}?`;
}

type Locate = (path: readonly PropertyKey[], at: "key" | "value") => ConfigIssue;

function toConfigIssues(issue: z.core.$ZodIssue, locate: Locate): ConfigIssue[] {
  if (issue.code === "unrecognized_keys") {
    const messages = issue.message.split("\n");
    return issue.keys.map((key, index) => ({
      ...locate([...issue.path, key], "key"),
      message: messages[index] ?? `unknown key ${JSON.stringify(key)}`,
    }));
  }
  return [{ ...locate(issue.path, "value"), message: issue.message }];
}
