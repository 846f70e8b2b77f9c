import { test } from "node:test";
import assert from "node:assert/strict";
import { StatSchedule } from "./stat-schedule.ts";

/** Takes what is due at each turn from `fromMs` to `toMs` (every `stepMs`), backing every item off; returns the times each item was due. */
function runQuiet(schedule: StatSchedule<string>, fromMs: number, toMs: number, stepMs: number): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (let nowMs = fromMs; nowMs <= toMs; nowMs += stepMs) {
    for (const item of schedule.takeDue(nowMs)) {
      seen.set(item, [...(seen.get(item) ?? []), nowMs]);
      schedule.backOff(item, nowMs);
    }
  }
  return seen;
}

test("a quiet item is due after intervals that double from base up to max, never earlier", () => {
  const schedule = new StatSchedule<string>(250, 2000);
  schedule.reset("a", 0);
  const due = runQuiet(schedule, 0, 10_000, 50).get("a") ?? [];
  const gaps = due.slice(1).map((atMs, index) => atMs - (due[index] as number));
  assert.equal(due[0], 250);
  assert.deepEqual(gaps.slice(0, 4), [500, 1000, 2000, 2000]);
  assert.ok(gaps.every((gapMs) => gapMs <= 2000 + 250), "never later than max (plus one slot)");
  assert.equal(schedule.intervalMs("a"), 2000);
});

test("reset brings a backed-off item back to the base interval at once; reset again before it is due keeps its turn", () => {
  const schedule = new StatSchedule<string>(100, 6400);
  schedule.reset("a", 0);
  runQuiet(schedule, 0, 20_000, 100);
  assert.equal(schedule.intervalMs("a"), 6400);
  schedule.reset("a", 20_010);
  assert.equal(schedule.intervalMs("a"), 100);
  assert.deepEqual(schedule.takeDue(20_099), []);
  schedule.reset("a", 20_150);
  assert.deepEqual(schedule.takeDue(20_200), ["a"], "a reset of an item already at base does not postpone it");
});

test("takeDue returns only what is due; a taken item is scheduled again only when the caller says so; delete forgets it", () => {
  const schedule = new StatSchedule<string>(100, 1000);
  schedule.reset("a", 0);
  schedule.reset("b", 50);
  assert.deepEqual(schedule.takeDue(99), []);
  assert.equal(schedule.msUntilNextDue(99), 1);
  assert.deepEqual(schedule.takeDue(100), ["a"]);
  assert.deepEqual(schedule.takeDue(500), ["b"]);
  assert.equal(schedule.msUntilNextDue(500), null, "taken items wait for reset or backOff");
  schedule.backOff("a", 500);
  assert.equal(schedule.intervalMs("a"), 200, "a taken item keeps the interval it had");
  schedule.delete("a");
  assert.equal(schedule.size, 1);
  assert.equal(schedule.intervalMs("a"), undefined);
  assert.deepEqual(schedule.takeDue(10_000), []);
});

test("max below base is a programming error", () => {
  assert.throws(() => new StatSchedule<string>(250, 100), /assertion failed/);
});
