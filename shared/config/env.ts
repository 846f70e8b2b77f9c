/**
 * Environment references in config strings.
 *
 *   ${VAR}            the value of VAR; an error when VAR is unset
 *   ${VAR:-default}   the value of VAR, or `default` when VAR is unset or empty
 *   $${               a literal `${` (so `$${VAR}` stays `${VAR}`)
 *
 * A `$` not followed by `{` is literal, so `$VAR` and `$$` are left alone.
 * Names are `[A-Za-z_][A-Za-z0-9_]*`. Defaults are literal text up to the
 * first `}`; a nested `${` in a default is an error.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export type EnvExpansion = { ok: true; value: string } | { ok: false; errors: string[] };

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Expands every reference in `text` from `env`; collects every problem rather than stopping at the first. */
export function expandEnv(text: string, env: Env): EnvExpansion {
  let value = "";
  const errors: string[] = [];
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf("$", index);
    if (dollar === -1) {
      value += text.slice(index);
      break;
    }
    value += text.slice(index, dollar);
    if (text.startsWith("$${", dollar)) {
      value += "${";
      index = dollar + 3;
      continue;
    }
    if (!text.startsWith("${", dollar)) {
      value += "$";
      index = dollar + 1;
      continue;
    }
    const close = text.indexOf("}", dollar + 2);
    if (close === -1) {
      errors.push(`unterminated "\${" in ${JSON.stringify(text)} (write "$\${" for a literal "\${")`);
      break;
    }
    const reference = resolveReference(text.slice(dollar + 2, close), env);
    if (reference.ok) value += reference.value;
    else errors.push(reference.error);
    index = close + 1;
  }
  return errors.length === 0 ? { ok: true, value } : { ok: false, errors };
}

/** Resolves the inside of one `${...}`. */
function resolveReference(body: string, env: Env): { ok: true; value: string } | { ok: false; error: string } {
  const separator = body.indexOf(":-");
  const name = separator === -1 ? body : body.slice(0, separator);
  if (!NAME_PATTERN.test(name)) {
    return { ok: false, error: `invalid environment variable reference "\${${body}}" (names are letters, digits and _)` };
  }
  const setValue = env[name];
  if (separator === -1) {
    if (setValue === undefined) {
      return {
        ok: false,
        error: `environment variable ${name} is not set (write "\${${name}:-default}" to give a default)`,
      };
    }
    return { ok: true, value: setValue };
  }
  const fallback = body.slice(separator + 2);
  if (fallback.includes("${")) {
    return { ok: false, error: `nested "\${" in the default of "\${${body}}" is not supported` };
  }
  return { ok: true, value: setValue === undefined || setValue === "" ? fallback : setValue };
}

/*
 * YAML flow collections cannot hold a plain `${VAR}` (`{` and `}` are flow
 * indicators), yet operators write `{ token: ${INGEST_TOKEN} }`. Before YAML
 * parsing each reference is swapped for a placeholder of the same length made
 * of private-use characters, so node offsets (and so line:column in errors)
 * stay exact; after parsing, string scalars get the reference text back and
 * are expanded. Expansion happens on parsed values, never on YAML text, so a
 * variable's value cannot inject YAML structure.
 */
const PLACEHOLDER_START = "\uF000";
const PLACEHOLDER_PAD = "\uE000";
const PLACEHOLDER_INDEX_BASE = 0xe100;
const PLACEHOLDER_INDEX_COUNT = 0xf000 - PLACEHOLDER_INDEX_BASE;
const PLACEHOLDER_PATTERN = /\uF000([\uE100-\uEFFF])\uE000*/g;

export interface MaskedText {
  masked: string;
  /** Original reference text by placeholder index. */
  references: string[];
}

/** Replaces each one-line `${...}` (and escaped `$${...}`) in `text` with a same-length placeholder. */
export function maskEnvReferences(text: string): MaskedText {
  const references: string[] = [];
  let masked = "";
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf("$", index);
    if (dollar === -1) break;
    // `$${...}` is masked whole too (restored verbatim; expandEnv turns it into `${...}`).
    const escaped = text.startsWith("$${", dollar);
    const close = escaped || text.startsWith("${", dollar) ? text.indexOf("}", dollar + (escaped ? 3 : 2)) : -1;
    const reference = close === -1 ? "" : text.slice(dollar, close + 1);
    if (reference === "" || reference.includes("\n") || references.length >= PLACEHOLDER_INDEX_COUNT) {
      const skipped = escaped ? 3 : 1;
      masked += text.slice(index, dollar + skipped);
      index = dollar + skipped;
      continue;
    }
    const placeholder = PLACEHOLDER_START + String.fromCharCode(PLACEHOLDER_INDEX_BASE + references.length);
    masked += text.slice(index, dollar) + placeholder.padEnd(reference.length, PLACEHOLDER_PAD);
    references.push(reference);
    index = close + 1;
  }
  return { masked: masked + text.slice(index), references };
}

/** Puts the original reference text back into a string taken from masked YAML. */
export function unmaskEnvReferences(value: string, references: readonly string[]): string {
  if (!value.includes(PLACEHOLDER_START)) return value;
  return value.replace(PLACEHOLDER_PATTERN, (placeholder, indexChar: string) => {
    return references[indexChar.charCodeAt(0) - PLACEHOLDER_INDEX_BASE] ?? placeholder;
  });
}
