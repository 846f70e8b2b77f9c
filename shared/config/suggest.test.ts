import { test } from "node:test";
import assert from "node:assert/strict";
import { editDistance, suggestKey } from "./suggest.ts";

test("editDistance counts a swap of neighbours as one edit", () => {
  assert.equal(editDistance("pahts", "paths"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

test("suggestKey finds plausible typos and nothing else", () => {
  const keys = ["paths", "exclude", "start_at", "max_line_bytes", "name"];
  assert.equal(suggestKey("pahts", keys), "paths");
  assert.equal(suggestKey("start-at", keys), "start_at");
  assert.equal(suggestKey("maxLineBytes", keys), "max_line_bytes");
  assert.equal(suggestKey("exclud", keys), "exclude");
  assert.equal(suggestKey("colour", keys), undefined);
  assert.equal(suggestKey("x", keys), undefined);
});
