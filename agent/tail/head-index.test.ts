import { test } from "node:test";
import assert from "node:assert/strict";
import { HEAD_KEY_BYTES, HeadIndex } from "./head-index.ts";
import { samePrefix } from "./fingerprint.ts";

interface Item {
  name: string;
  head: Buffer;
}

/** What a brute-force scan would find: every item whose head agrees with `head` on their common prefix. */
function agreeing(items: Item[], head: Buffer): string[] {
  return items.filter((item) => samePrefix(item.head, head)).map((item) => item.name).sort();
}

function found(index: HeadIndex<Item>, items: Item[], head: Buffer): string[] {
  const candidates = index.candidates(head);
  return items.filter((item) => candidates.includes(item) && samePrefix(item.head, head)).map((item) => item.name).sort();
}

test("candidates hold every head that agrees, whatever the lengths: short heads, long heads, heads equal beyond the key", () => {
  const common = "2026-11-30T12:00:00.000Z app[42]: ".padEnd(HEAD_KEY_BYTES + 8, "x");
  const heads = ["", "a", "ab", "abc", "abd", "b", common, `${common}1 more`, `${common}2 more`, common.slice(0, 10), common.slice(0, HEAD_KEY_BYTES), `${common.slice(0, HEAD_KEY_BYTES - 1)}Z`];
  const items = heads.map((head, index) => ({ name: `${index}:${head}`, head: Buffer.from(head, "latin1") }));
  const index = new HeadIndex<Item>();
  for (const item of items) index.add(item);
  const queries = [...heads, "abcdef", "a".repeat(HEAD_KEY_BYTES * 2), `${common}1 more and more`, `${common}3`, "\u00ff\u0000"];
  for (const query of queries) {
    const head = Buffer.from(query, "latin1");
    assert.deepEqual(found(index, items, head), agreeing(items, head), `query ${JSON.stringify(query)}`);
  }
});

test("a head that grew is found under its new key only once added again; delete forgets it", () => {
  const item: Item = { name: "grows", head: Buffer.from("short") };
  const index = new HeadIndex<Item>();
  index.add(item);
  item.head = Buffer.from("short line that grew past the key length of the index, and further");
  index.add(item);
  assert.deepEqual(index.candidates(item.head), [item]);
  assert.deepEqual(index.candidates(Buffer.from("shorx")), []);
  index.delete(item);
  assert.deepEqual(index.candidates(item.head), []);
});

test("many files that differ only after the key: lookups find exactly the agreeing ones (random heads against a scan)", () => {
  let seed = 7;
  const random = (below: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  const alphabet = "ab";
  const items: Item[] = [];
  const index = new HeadIndex<Item>();
  for (let count = 0; count < 400; count++) {
    let text = "";
    const length = random(HEAD_KEY_BYTES + 12);
    for (let position = 0; position < length; position++) text += alphabet[random(alphabet.length)];
    const item = { name: String(count), head: Buffer.from(text) };
    items.push(item);
    index.add(item);
  }
  for (const item of items.filter((_, position) => position % 3 === 0)) {
    index.delete(item);
    items.splice(items.indexOf(item), 1);
  }
  for (let query = 0; query < 300; query++) {
    let text = "";
    const length = 1 + random(HEAD_KEY_BYTES + 12);
    for (let position = 0; position < length; position++) text += alphabet[random(alphabet.length)];
    const head = Buffer.from(text);
    assert.deepEqual(found(index, items, head), agreeing(items, head), `query ${text}`);
  }
});
