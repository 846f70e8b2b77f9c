/**
 * Asks FTS5 whether it sees any token in a query token. Our tokens are runs
 * of Unicode letters, marks, numbers and private-use characters by
 * JavaScript's current Unicode tables; FTS5's unicode61 tokenizer knows
 * Unicode 6.1 only, so a token made only of characters assigned later is
 * nothing to FTS5, and a MATCH for it would find no row although the
 * evaluator matches it. translate.ts leaves such a token to the evaluator.
 * Pure ASCII needs no probe. One in-memory database per process; answers
 * are cached up to PROBE_CACHE_MAX tokens.
 */
import type { StatementSync } from "node:sqlite";
import { sqlite } from "./sqlite.ts";
import { FTS_TOKENIZER } from "./partition-schema.ts";

const PROBE_CACHE_MAX = 4096;
const ASCII = /^[\x00-\x7f]*$/;

interface Probe {
  insert: StatementSync;
  count: StatementSync;
  clear: StatementSync;
}

let probe: Probe | undefined;
const cache = new Map<string, boolean>();

/** True when FTS5's tokenizer finds at least one token in `text`. */
export function ftsSeesToken(text: string): boolean {
  if (ASCII.test(text)) return /[0-9A-Za-z]/.test(text);
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  probe ??= openProbe();
  probe.insert.run(text);
  const { terms } = probe.count.get() as { terms: number };
  probe.clear.run();
  if (cache.size >= PROBE_CACHE_MAX) cache.clear();
  cache.set(text, terms > 0);
  return terms > 0;
}

function openProbe(): Probe {
  const database = new (sqlite().DatabaseSync)(":memory:");
  database.exec(`CREATE VIRTUAL TABLE probe USING fts5 (text, tokenize = "${FTS_TOKENIZER}"); CREATE VIRTUAL TABLE probe_terms USING fts5vocab (probe, 'row');`);
  return {
    insert: database.prepare("INSERT INTO probe (rowid, text) VALUES (1, ?)"),
    count: database.prepare("SELECT count(*) AS terms FROM probe_terms"),
    clear: database.prepare("DELETE FROM probe"),
  };
}
