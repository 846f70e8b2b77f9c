/**
 * Field paths as transforms name them: `message`, the event's other
 * top-level names (read only), and `fields.<name>`. Reading follows the
 * query language (shared/query/compile.ts): `fields.a.b` is the key "a.b"
 * if it exists, else the nested objects a → b. Writing and removing address
 * the key "a.b" too, unless it is absent and the nested parent object
 * exists: then they act inside it. So a field a parser nested is reachable,
 * and a new field is one flat key, as the operator wrote it.
 */
import { FIELDS_PREFIX } from "../../shared/query/index.ts";

/** What a transform reads and writes: one event, mutable. */
export interface TransformEvent {
  readonly host: string;
  readonly source: string;
  readonly path: string;
  readonly offset: number;
  readonly time: string;
  readonly observed_time: string;
  message: string;
  fields: Record<string, unknown>;
}

/** Top-level names a template or a key may read; only `message` may be written. */
export const READABLE_TOP_LEVEL = ["message", "host", "source", "path", "offset", "time", "observed_time"] as const;
type TopLevel = (typeof READABLE_TOP_LEVEL)[number];

export type FieldPath = { kind: "top"; name: TopLevel } | { kind: "field"; key: string; segments: string[] };

/** Parses a path; returns an error text for anything else. */
export function parseFieldPath(text: string, access: "read" | "write"): FieldPath | string {
  if (text.startsWith(FIELDS_PREFIX) && text.length > FIELDS_PREFIX.length) {
    const key = text.slice(FIELDS_PREFIX.length);
    return { kind: "field", key, segments: key.split(".") };
  }
  if (access === "write") {
    if (text === "message") return { kind: "top", name: "message" };
    return `expected "message" or "fields.<name>"; got ${JSON.stringify(text)}`;
  }
  if ((READABLE_TOP_LEVEL as readonly string[]).includes(text)) return { kind: "top", name: text as TopLevel };
  return `expected "fields.<name>" or one of ${READABLE_TOP_LEVEL.join(", ")}; got ${JSON.stringify(text)}`;
}

/** Parses a path the schema has already checked. */
export function checkedFieldPath(text: string, access: "read" | "write"): FieldPath {
  const path = parseFieldPath(text, access);
  if (typeof path === "string") throw new Error(`assertion failed: the schema checked the path: ${path}`);
  return path;
}

export function getPath(event: TransformEvent, path: FieldPath): unknown {
  if (path.kind === "top") return event[path.name];
  const fields = event.fields;
  if (Object.hasOwn(fields, path.key)) return fields[path.key];
  if (path.segments.length === 1) return undefined;
  let value: unknown = fields;
  for (const segment of path.segments) {
    if (!isObject(value) || !Object.hasOwn(value, segment)) return undefined;
    value = value[segment];
  }
  return value;
}

export function setPath(event: TransformEvent, path: FieldPath, value: unknown): void {
  if (path.kind === "top") {
    if (path.name !== "message") throw new Error(`assertion failed: only message is writable, not ${path.name}`);
    event.message = valueText(value);
    return;
  }
  const parent = nestedParent(event.fields, path);
  if (parent === null) event.fields[path.key] = value;
  else parent[path.segments.at(-1) as string] = value;
}

/** Removes a field; true when there was one. */
export function removePath(event: TransformEvent, path: FieldPath): boolean {
  if (path.kind === "top") throw new Error(`assertion failed: top-level ${path.name} cannot be removed`);
  const parent = nestedParent(event.fields, path);
  const owner = parent ?? event.fields;
  const key = parent === null ? path.key : (path.segments.at(-1) as string);
  if (!Object.hasOwn(owner, key)) return false;
  delete owner[key];
  return true;
}

/** The nested object holding the last segment, when the flat key is absent and the parents exist; else null. */
function nestedParent(fields: Record<string, unknown>, path: { key: string; segments: string[] }): Record<string, unknown> | null {
  if (path.segments.length === 1 || Object.hasOwn(fields, path.key)) return null;
  let value: unknown = fields;
  for (const segment of path.segments.slice(0, -1)) {
    if (!isObject(value) || !Object.hasOwn(value, segment)) return null;
    value = value[segment];
  }
  return isObject(value) ? value : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as text: strings as they are, absent as "", objects and arrays as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
