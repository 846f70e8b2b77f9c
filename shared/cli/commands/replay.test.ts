import { test } from "node:test";
import assert from "node:assert/strict";
import { parseReplayFrom } from "./replay.ts";

test("replay --from: digits are an offset, else an RFC 3339 time (no offset: UTC), else a duration ago; anything else is a usage error", async () => {
  const nowMs = Date.parse("2026-03-01T12:00:00Z");
  assert.deepEqual(await parseReplayFrom("0", nowMs), { offset: 0 });
  assert.deepEqual(await parseReplayFrom(" 1200 ", nowMs), { offset: 1200 });
  assert.deepEqual(await parseReplayFrom("2026-03-01T10:00:00Z", nowMs), { timeMs: Date.parse("2026-03-01T10:00:00Z") });
  assert.deepEqual(await parseReplayFrom("2026-03-01T11:00:00.250+01:00", nowMs), { timeMs: Date.parse("2026-03-01T10:00:00.250Z") });
  assert.deepEqual(await parseReplayFrom("2026-03-01 10:00:00", nowMs), { timeMs: Date.parse("2026-03-01T10:00:00Z") });
  assert.deepEqual(await parseReplayFrom("15m", nowMs), { timeMs: nowMs - 15 * 60_000 });
  assert.deepEqual(await parseReplayFrom("1h30m", nowMs), { timeMs: nowMs - 90 * 60_000 });
  for (const text of ["yesterday", "-5", "2026-02-30T00:00:00Z", "2026-03-01", "15 parsecs", ""]) {
    await assert.rejects(parseReplayFrom(text, nowMs), { code: "LOGSHIP_CONFIG", message: new RegExp(`^--from: expected an offset .* got ${JSON.stringify(JSON.stringify(text)).slice(1, -1)}$`) }, text);
  }
  await assert.rejects(parseReplayFrom("99999999999999999999", nowMs), { code: "LOGSHIP_CONFIG", message: "--from: offset 99999999999999999999 is too large" });
});

test("replay --from PARTITION:OFFSET,…: offsets per partition (the Kafka log), each partition once", async () => {
  const nowMs = Date.parse("2026-03-01T12:00:00Z");
  assert.deepEqual(await parseReplayFrom("0:120", nowMs), { partitionOffsets: new Map([[0, 120]]) });
  assert.deepEqual(await parseReplayFrom(" 3:0,1:7 ", nowMs), { partitionOffsets: new Map([[3, 0], [1, 7]]) });
  await assert.rejects(parseReplayFrom("1:5,1:6", nowMs), { code: "LOGSHIP_CONFIG", message: "--from: partition 1 is given twice" });
  await assert.rejects(parseReplayFrom("0:99999999999999999999", nowMs), { code: "LOGSHIP_CONFIG", message: "--from: offset 99999999999999999999 is too large" });
  for (const text of ["0:", ":5", "0:1:2", "0:1,", "a:1"]) {
    await assert.rejects(parseReplayFrom(text, nowMs), { code: "LOGSHIP_CONFIG", message: /^--from: expected an offset / }, text);
  }
});
