import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTime } from "../../shared/query/values.ts";
import { EventTimeReader } from "./event-time.ts";

test("EventTimeReader answers as parseTime does, through its same-second shortcut and around it", () => {
  const texts = [
    "2026-11-29T10:00:00.000Z",
    "2026-11-29T10:00:00.999Z",
    "2026-11-29T10:00:00.5Z",
    "2026-11-29T10:00:01.001Z",
    "2026-11-29t10:00:01.002Z",
    "2026-11-29T10:00:01.003z",
    "2026-11-29T10:00:01.0a3Z",
    "2026-11-29T10:00:01.003+01:00",
    "2026-11-29 10:00:01.003Z",
    "2026-02-30T10:00:00.000Z",
    "2026-02-30T10:00:00.001Z",
    "2026-11-29T24:00:00.000Z",
    "2026-11-29T23:59:60.000Z",
    "0000-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59.999Z",
    "abcd-ef-ghTij:kl:mn.123Z",
    "2026-11-29",
    "",
  ];
  const reader = new EventTimeReader();
  // Twice over, so that each text is read both after a different second and after its own.
  for (const text of [...texts, ...texts.toReversed(), ...texts.flatMap((text) => [text, text])]) {
    assert.equal(reader.ms(text), parseTime(text), text);
  }
});
