import { test } from "node:test";
import assert from "node:assert/strict";
import { columnAt, lex } from "./lexer.ts";

function types(query: string): string[] {
  return lex(query).map((token) => (token.type === "word" ? `word:${token.text}` : token.type));
}

test("value position: after field: or a comparison, - and : are literal and keywords are words", () => {
  assert.deepEqual(types("-a:-b:c"), ["minus", "field", "word:-b:c", "end"]);
  assert.deepEqual(types("a:AND AND"), ["field", "word:AND", "and", "end"]);
  assert.deepEqual(types("a:>=-5"), ["field", "compare", "word:-5", "end"]);
  assert.deepEqual(types("a: -b"), ["field", "minus", "word:b", "end"]);
});

test("ranges: brackets open a range, words end at brackets, TO is a keyword only inside", () => {
  assert.deepEqual(types("f:[1 TO 2026-11-29T10:00:00Z} TO"), ["field", "range_open", "word:1", "to", "word:2026-11-29T10:00:00Z", "range_close", "word:TO", "end"]);
  assert.deepEqual(types("a]b}"), ["word:a]b}", "end"]);
});

test("words keep escapes apart from wildcards", () => {
  const [word] = lex("a\\*b*c?\\\\");
  assert.ok(word?.type === "word");
  assert.equal(word.text, "a*b*c?\\");
  assert.equal(word.pattern, "a\\*b*c?\\\\");
  assert.equal(word.wildcardCount, 2);
  assert.equal(word.escaped, true);
  assert.deepEqual(types("\\AND \\OR NOT"), ["word:AND", "word:OR", "not", "end"]);
});

test("regexes keep their source, including escaped slashes and slashes in classes", () => {
  const [regex] = lex("/a\\/b[/]c/");
  assert.ok(regex?.type === "regex");
  assert.equal(regex.pattern, "a\\/b[/]c");
});

test("columns count code points, and one past the end", () => {
  assert.equal(columnAt("a😀b", 3), 3);
  assert.equal(columnAt("ab", 2), 3);
  assert.equal(columnAt("ab", 0), 1);
});
