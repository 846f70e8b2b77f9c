import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { globMatches, parseGlob } from "./glob.ts";

test("* is any run, ? one code point, backslash escapes", () => {
  const cases: Array<[string, string, boolean]> = [
    ["web-*", "web-1", true],
    ["web-*", "web-", true],
    ["web-*", "api-1", false],
    ["*-1", "worker-1", true],
    ["w?b", "web", true],
    ["w?b", "wb", false],
    ["w?b", "w😀b", true],
    ["a*b*c", "aXbYbZc", true],
    ["a*b*c", "aXbYbZ", false],
    ["a\\*", "a*", true],
    ["a\\*", "ab", false],
    ["a\\?", "a?", true],
    ["a\\\\*", "a\\x", true],
    ["*", "", true],
    ["?", "", false],
    ["**a", "ba", true],
  ];
  for (const [pattern, text, expected] of cases) assert.equal(globMatches(parseGlob(pattern), text), expected, `${pattern} ~ ${text}`);
});

test("globMatches agrees with an anchored regex built from the pattern", () => {
  const alphabet = fc.constantFrom("a", "b", "😀");
  const piece = fc.oneof(alphabet, fc.constantFrom("*", "?"));
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), fc.array(alphabet, { maxLength: 10 }), (pieces, chars) => {
      const regex = new RegExp(`^${pieces.map((p) => (p === "*" ? ".*" : p === "?" ? "." : p)).join("")}$`, "su");
      const text = chars.join("");
      assert.equal(globMatches(parseGlob(pieces.join("")), text), regex.test(text));
    }),
  );
});

test("worst-case patterns stay quadratic, not exponential", () => {
  const pattern = parseGlob(`${"*a".repeat(50)}b`);
  assert.equal(globMatches(pattern, "a".repeat(5000)), false);
});
