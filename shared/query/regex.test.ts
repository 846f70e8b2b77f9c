import { test } from "node:test";
import assert from "node:assert/strict";
import { compileQueryRegex, REGEX_SOURCE_CHARS_MAX } from "./regex.ts";

test("ordinary log regexes compile", () => {
  for (const pattern of [
    "timeout \\d+ms",
    "^(GET|POST) /api/",
    "(?i:error)",
    "(?<status>5\\d\\d)",
    "(?:ab)+c",
    "(a|b)*c",
    "[(+*]+",
    "\\((\\d+)\\)",
    "(a+){2}",
    "(?=x)y+",
    "a{2,5}b",
  ]) {
    assert.ok(compileQueryRegex(pattern) instanceof RegExp, pattern);
  }
});

test("the guard refuses nested repetition, backreferences and long patterns", () => {
  const refused = (pattern: string): string => {
    const result = compileQueryRegex(pattern);
    assert.ok(!(result instanceof RegExp), `${pattern} should be refused`);
    return result.refused;
  };
  for (const pattern of ["(a+)+", "(a*)*b", "(\\w+\\s?)*$", "((ab)*c)+", "(?:a|b+)*", "(a{1,9}){2,}", "(x+)+?"]) {
    assert.match(refused(pattern), /nested repetition/, pattern);
  }
  assert.match(refused("(a)\\1"), /backreferences/);
  assert.match(refused("(?<x>a)\\k<x>"), /backreferences/);
  assert.match(refused("a".repeat(REGEX_SOURCE_CHARS_MAX + 1)), /longer than/);
  assert.match(refused("(unclosed"), /^bad regex: Invalid regular expression/);
  assert.match(refused("a\\-b"), /^bad regex/);
});
