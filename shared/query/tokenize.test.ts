import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseGlob } from "./glob.ts";
import { tokenize, tokenizeGlob } from "./tokenize.ts";

test("tokens are runs of letters, marks, numbers; lowercased; everything else separates", () => {
  const cases: Array<[string, string[]]> = [
    ["Connection reset by peer", ["connection", "reset", "by", "peer"]],
    ['GET /api/users?id=7 HTTP/1.1" 404', ["get", "api", "users", "id", "7", "http", "1", "1", "404"]],
    ["user_id=42 top-up e-mail", ["user", "id", "42", "top", "up", "e", "mail"]],
    ["Café CRÈME naïve", ["café", "crème", "naïve"]],
    ["cafe\u0301 (combining accent stays in the token)", ["cafe\u0301", "combining", "accent", "stays", "in", "the", "token"]],
    ["日本語のログ メッセージ", ["日本語のログ", "メッセージ"]],
    ["ΟΔΟΣ Straße ǅemal", ["οδος", "straße", "ǆemal"]],
    ["x²½ ٣٤ 1,5", ["x²½", "٣٤", "1", "5"]],
    ["emoji 😀 between", ["emoji", "between"]],
    ["", []],
    ["  -- ..", []],
  ];
  for (const [text, tokens] of cases) assert.deepEqual(tokenize(text), tokens, `tokenize(${JSON.stringify(text)})`);
});

test("a pattern splits like text, wildcards counting as token characters", () => {
  const text = (glob: readonly number[]): string => glob.map((code) => (code < 0 ? (code === -1 ? "*" : "?") : String.fromCodePoint(code))).join("");
  assert.deepEqual(tokenizeGlob(parseGlob("Time*out-ERR?r")).map(text), ["time*out", "err?r"]);
  assert.deepEqual(tokenizeGlob(parseGlob("foo-*")).map(text), ["foo", "*"]);
  assert.deepEqual(tokenizeGlob(parseGlob("a\\*b")).map(text), ["a", "b"]);
});

test("tokenizing a pattern without wildcards is tokenize", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), (text) => {
      const literal = Array.from(text, (char) => char.codePointAt(0) ?? 0);
      assert.deepEqual(tokenizeGlob(literal).map((glob) => String.fromCodePoint(...glob)), tokenize(text));
    }),
  );
});
