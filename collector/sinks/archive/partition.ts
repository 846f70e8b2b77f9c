/**
 * The archive's partition directories (docs/ARCHIVE.md, "Layout"): a
 * template of literal text and `%T` (tenant), `%Y` `%m` `%d` `%H` (UTC year,
 * month, day, hour of the event's own time) and `%%`, rendered per event.
 * A late event lands in the partition of its time, not of its arrival.
 */

export type PartitionToken = { kind: "text"; text: string } | { kind: "tenant" | "year" | "month" | "day" | "hour" };

const DIRECTIVES: Record<string, PartitionToken> = {
  T: { kind: "tenant" },
  Y: { kind: "year" },
  m: { kind: "month" },
  d: { kind: "day" },
  H: { kind: "hour" },
  "%": { kind: "text", text: "%" },
};

export type PartitionTemplate = readonly PartitionToken[];

/** Parses a template, or returns why it is not one (pure: the config validates with it). */
export function parsePartitionTemplate(template: string): PartitionTemplate | string {
  const tokens: PartitionToken[] = [];
  let text = "";
  for (let index = 0; index < template.length; index++) {
    const char = template[index];
    if (char !== "%") {
      text += char;
      continue;
    }
    const directive = DIRECTIVES[template[index + 1] ?? ""];
    if (directive === undefined) return `unknown directive "%${template[index + 1] ?? ""}" at ${index}; expected %T, %Y, %m, %d, %H or %%`;
    index++;
    if (directive.kind === "text") {
      text += directive.text;
      continue;
    }
    if (text !== "") tokens.push({ kind: "text", text });
    text = "";
    tokens.push(directive);
  }
  if (text !== "") tokens.push({ kind: "text", text });
  const literal = tokens.map((token) => (token.kind === "text" ? token.text : "x")).join("");
  if (literal.startsWith("/") || literal.endsWith("/") || literal.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return "a partition is a relative directory path: no leading or trailing /, no empty, . or .. parts";
  }
  return tokens;
}

/** The partition directory (relative, "/"-separated) of an event of `tenant` at `timeMs`. */
export function renderPartition(template: PartitionTemplate, tenant: string, timeMs: number): string {
  const time = new Date(timeMs);
  let path = "";
  for (const token of template) {
    switch (token.kind) {
      case "text":
        path += token.text;
        break;
      case "tenant":
        path += tenant;
        break;
      case "year":
        path += String(time.getUTCFullYear()).padStart(4, "0");
        break;
      case "month":
        path += String(time.getUTCMonth() + 1).padStart(2, "0");
        break;
      case "day":
        path += String(time.getUTCDate()).padStart(2, "0");
        break;
      case "hour":
        path += String(time.getUTCHours()).padStart(2, "0");
        break;
    }
  }
  return path;
}
