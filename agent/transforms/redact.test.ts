import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BUILTIN_PATTERNS, builtinPattern, customPattern, luhnValid, redactPatterns, redactText } from "./redact.ts";

// In the reverse of their precedence, to show the order a config names them in does not matter.
const all = redactPatterns([...BUILTIN_PATTERNS].reverse());

test("Luhn: valid card numbers pass, one changed digit fails, lengths outside 13–19 fail", () => {
  for (const digits of ["4111111111111111", "5500005555555559", "378282246310005", "6011111111111117", "4222222222222", "3530111333300000"]) {
    assert.equal(luhnValid(digits), true, digits);
  }
  for (const digits of ["4111111111111112", "5500005555555550", "378282246310006", "1234567890123", "411111111111", "41111111111111111111"]) {
    assert.equal(luhnValid(digits), false, digits);
  }
});

test("every built-in pattern masks what it names", () => {
  const cases: [string, string][] = [
    ["mail bob.smith+tag@mail.example.co.uk now", "mail [REDACTED:email] now"],
    ["from 192.168.0.1, to 8.8.8.8.", "from [REDACTED:ipv4], to [REDACTED:ipv4]."],
    ["peer 2001:db8::8a2e:370:7334 and ::1 and fe80::1%", "peer [REDACTED:ipv6] and [REDACTED:ipv6] and [REDACTED:ipv6]%"],
    ["mapped ::ffff:10.0.0.1 here", "mapped [REDACTED:ipv6] here"],
    ["card 4111-1111-1111-1111 ok", "card [REDACTED:credit_card] ok"],
    ["card 4111111111111111", "card [REDACTED:credit_card]"],
    ["amex 3782 822463 10005", "amex [REDACTED:credit_card]"],
    ["Authorization: Bearer abc.DEF-123_~+/xyz== next", "Authorization: Bearer [REDACTED:bearer_token] next"],
    ["token_type=bearer bearer 0123456789abcdefXYZ", "token_type=bearer bearer [REDACTED:bearer_token]"],
  ];
  for (const [input, expected] of cases) assert.equal(redactText(input, all).text, expected, input);
});

test("look-alikes are left alone", () => {
  const lookAlikes = [
    "version 1.2.3.4.5 released",
    "address 256.1.1.1 is not one",
    "build 10.0.0.1a",
    "at 12:30:45 the job ran",
    "C++ std::vector::push_back",
    "MAC 00:1a:2b:3c:4d:5e",
    "order 4111111111111112 (Luhn fails)",
    "phone +1 555 123 4567",
    "id 20240102123456789",
    "user@localhost",
    "@mention and a@b",
    "the bearer of bad news",
    "Bearer authentication required",
    "bearer: unauthenticated_request",
    "timestamp 1700000000000",
    "hash deadbeef:cafe",
  ];
  for (const text of lookAlikes) {
    const result = redactText(text, all);
    assert.deepEqual(result, { text, redactions: 0 }, text);
  }
});

test("redactions are counted per match; custom patterns use their name", () => {
  const patterns = [builtinPattern("email"), customPattern("sk_live_[A-Za-z0-9]+", "stripe_key")];
  const result = redactText("a@example.com b@example.org key sk_live_abc123", patterns);
  assert.deepEqual(result, { text: "[REDACTED:email] [REDACTED:email] key [REDACTED:stripe_key]", redactions: 3 });
  // The same compiled patterns again: the global regexes keep no state between calls.
  assert.equal(redactText("c@example.net", patterns).redactions, 1);
});

test("a pattern's hint holds for every text the pattern finds something in (it only lets texts skip the regex)", () => {
  // Texts of the characters the patterns are made of, so that matches are frequent.
  const text = fc.string({ unit: fc.constantFrom(..."0123456789.:@ -abcdefABCDEF_Bearer/xyz=".split("")), maxLength: 60 });
  const examples = ["10.0.0.1", "10.200.201.4", "a 1.2.3.4 b", "1.22.3.4", "x@example.com", "::1", "Bearer abcdefghij0123456789"];
  for (const name of BUILTIN_PATTERNS) {
    const pattern = builtinPattern(name);
    const hint = pattern.hint;
    if (hint === undefined) continue;
    const check = (candidate: string): void => {
      pattern.regex.lastIndex = 0;
      if (pattern.regex.test(candidate)) assert.equal(hint(candidate), true, `${name}: ${JSON.stringify(candidate)}`);
    };
    examples.forEach(check);
    fc.assert(fc.property(text, (candidate) => check(candidate)), { numRuns: 2000 });
  }
});
