/**
 * Test helper: a scrape of `GET /metrics`, checked line by line against the
 * Prometheus text format (each non-comment line `name{labels} value`, each
 * `# TYPE` a known type), and the samples by name and labels.
 */
import assert from "node:assert/strict";

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*)\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|[Nn]a[Nn]|\+Inf|-Inf))$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;
const HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$/;

export interface Exposition {
  /** Metric family name → type. */
  types: Map<string, string>;
  /** `name{label="value",…}` exactly as exposed → value. */
  samples: Map<string, number>;
}

/** Parses and checks the format; fails the test on any line that is not a sample, HELP, TYPE or empty. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const type = TYPE.exec(line);
      if (type !== null) types.set(type[1] as string, type[2] as string);
      else assert.match(line, HELP, `a comment line is HELP or TYPE: ${line}`);
      continue;
    }
    const sample = SAMPLE.exec(line);
    assert.ok(sample !== null, `not a sample line "name{labels} value": ${JSON.stringify(line)}`);
    const name = sample[1] as string;
    const family = name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(name) || types.has(family), `sample ${name} has a # TYPE line before it`);
    samples.set(`${name}${sample[2] ?? ""}`, Number(sample[4]));
  }
  return { types, samples };
}

/** The value of one series, `name` plus labels in the order exposed; undefined when absent. */
export function sampleValue(exposition: Exposition, series: string): number | undefined {
  return exposition.samples.get(series);
}

/** One series of a metric, its labels parsed. */
export interface LabelledSample {
  labels: Record<string, string>;
  value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"/g;

/** Every series of `name` (no histogram parts), with its labels. */
export function seriesOf(exposition: Exposition, name: string): LabelledSample[] {
  const found: LabelledSample[] = [];
  for (const [series, value] of exposition.samples) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    const labels: Record<string, string> = {};
    for (const [, label, text] of series.slice(name.length).matchAll(LABEL)) labels[label as string] = (text as string).replace(/\\(["\\n])/g, (_, escaped: string) => (escaped === "n" ? "\n" : escaped));
    found.push({ labels, value });
  }
  return found;
}

/** The sum of `name`'s series whose labels include `labels` (0 when none). */
export function sumOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return seriesOf(exposition, name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** Scrapes until `check` holds (what the metrics count may land just after the answer the test saw); fails after `timeoutMs`. */
export async function scrapeUntil(url: string, what: string, check: (exposition: Exposition) => boolean, timeoutMs = 10_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exposition = await scrape(url);
    if (check(exposition)) return exposition;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Scrapes `url` + /metrics and parses it. */
export async function scrape(url: string): Promise<Exposition> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}
