/**
 * Small zod building blocks shared by the agent and collector schemas.
 * Each one checks purely (no I/O) and says what it expected.
 */
import { z } from "zod";

/** Characters allowed in source names, tenant names and similar identifiers. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9_.-]+$/;

export function identifierSchema(what: string) {
  return z
    .string()
    .regex(IDENTIFIER_PATTERN, { error: `${what} may contain only letters, digits, "_", "." and "-"` });
}

/** Compiles `pattern` (no flags) and returns the error text, or the RegExp. */
export function compileRegex(pattern: string): RegExp | string {
  try {
    return new RegExp(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, "") : String(error);
    return `not a valid regular expression: ${reason}`;
  }
}

/** True when `regex` has at least one named group `(?<name>...)`. */
export function hasNamedGroup(regex: RegExp): boolean {
  // An empty alternative makes the pattern match "", and `groups` exists exactly when names do.
  const matchesEmpty = new RegExp(`(?:${regex.source})|`, regex.flags);
  return matchesEmpty.exec("")?.groups !== undefined;
}

/** A JavaScript regular expression source (compiled without flags); optionally it must name a group. */
export function regexSchema(options: { namedGroupRequired: boolean }) {
  return z.string().superRefine((pattern, ctx) => {
    const compiled = compileRegex(pattern);
    if (typeof compiled === "string") {
      ctx.addIssue({ code: "custom", message: compiled, input: pattern });
    } else if (options.namedGroupRequired && !hasNamedGroup(compiled)) {
      ctx.addIssue({
        code: "custom",
        message: "needs at least one named group like (?<status>\\d+); the groups become fields",
        input: pattern,
      });
    }
  });
}

/** An absolute http:// or https:// URL. */
export function httpUrlSchema(example: string) {
  return z.string().superRefine((text, ctx) => {
    if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) {
      ctx.addIssue({ code: "custom", message: `expected an http(s) URL like ${example}; got ${JSON.stringify(text)}`, input: text });
    }
  });
}

/** `host:port` to listen on; host may be an IPv4 address, a name, or `[ipv6]`. */
export function listenAddressSchema() {
  return z.string().superRefine((text, ctx) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(text);
    const port = match === null ? Number.NaN : Number(match[2]);
    if (!(port >= 0 && port <= 65535)) {
      ctx.addIssue({ code: "custom", message: `expected host:port like 127.0.0.1:7171; got ${JSON.stringify(text)}`, input: text });
    }
  });
}
