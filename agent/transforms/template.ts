/**
 * Value templates of `set`: `'{fields.service}-{host}'`. `{path}` is
 * replaced by the value at a field path (paths.ts; absent → ""), `{{` and
 * `}}` stand for literal braces. A string without braces is a constant.
 * Parsed once at config load; rendering walks the parts.
 */
import { checkedFieldPath, type FieldPath, getPath, parseFieldPath, type TransformEvent, valueText } from "./paths.ts";

type Part = { kind: "text"; text: string } | { kind: "path"; path: FieldPath };

export type Template = readonly Part[];

/** Checks a template; returns an error text, or null when it is valid. */
export function templateError(text: string): string | null {
  const parts = scan(text);
  return typeof parts === "string" ? parts : null;
}

export function compileTemplate(text: string): Template {
  const parts = scan(text);
  if (typeof parts === "string") throw new Error(`assertion failed: the schema checked the template: ${parts}`);
  return parts.map((part) => (part.kind === "text" ? part : { kind: "path", path: checkedFieldPath(part.name, "read") }));
}

/** True when the template has no references: its value is its text. */
export function isConstant(template: Template): boolean {
  return template.every((part) => part.kind === "text");
}

/** Top-level names that are the same for every event of a file stream. */
const STREAM_CONSTANT = new Set(["host", "source", "path"]);

/** True when the template reads only host, source and path: one value per file stream. */
export function isStreamConstant(template: Template): boolean {
  return template.every((part) => part.kind === "text" || (part.path.kind === "top" && STREAM_CONSTANT.has(part.path.name)));
}

/**
 * How a `set` renders a template per event. A template that reads only
 * host, source and path (`'{host}/{source}'`) has one value per file
 * stream: it is rendered again only when the stream changes, not for every
 * event.
 */
export function templateRenderer(template: Template): (event: TransformEvent) => string {
  if (!isStreamConstant(template)) {
    return (event) => renderTemplate(template, event);
  }
  let host: string | null = null;
  let source: string | null = null;
  let path: string | null = null;
  let rendered = "";
  return (event) => {
    if (event.host !== host || event.source !== source || event.path !== path) {
      host = event.host;
      source = event.source;
      path = event.path;
      rendered = renderTemplate(template, event);
    }
    return rendered;
  };
}

export function renderTemplate(template: Template, event: TransformEvent): string {
  let text = "";
  for (const part of template) text += part.kind === "text" ? part.text : valueText(getPath(event, part.path));
  return text;
}

type ScannedPart = { kind: "text"; text: string } | { kind: "path"; name: string };

function scan(text: string): ScannedPart[] | string {
  const parts: ScannedPart[] = [];
  let literal = "";
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if ((char === "{" || char === "}") && text[index + 1] === char) {
      literal += char;
      index++;
      continue;
    }
    if (char === "}") return `unmatched "}" at column ${index + 1} of the template (write "}}" for a literal brace)`;
    if (char !== "{") {
      literal += char;
      continue;
    }
    const close = text.indexOf("}", index + 1);
    if (close === -1) return `unclosed "{" at column ${index + 1} of the template (write "{{" for a literal brace)`;
    const name = text.slice(index + 1, close).trim();
    const path = parseFieldPath(name, "read");
    if (typeof path === "string") return `template reference at column ${index + 1}: ${path}`;
    if (literal !== "") parts.push({ kind: "text", text: literal });
    literal = "";
    parts.push({ kind: "path", name });
    index = close;
  }
  if (literal !== "" || parts.length === 0) parts.push({ kind: "text", text: literal });
  return parts;
}
