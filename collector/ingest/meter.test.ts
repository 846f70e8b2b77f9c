import { test } from "node:test";
import assert from "node:assert/strict";
import { IngestMeter } from "./meter.ts";

test("ingest meter: totals since start; rates over the last window of whole seconds, divided by the uptime while it is shorter", () => {
  let nowMs = 1_000_000;
  const meter = new IngestMeter({ windowMs: 10_000, bucketMs: 1000, nowMs: () => nowMs });
  assert.deepEqual(meter.snapshot("default").totals, { batches: 0, events: 0, bytes: 0, duplicateBatches: 0 });
  nowMs += 500;
  meter.record("default", { events: 100, bytes: 4000, duplicate: false });
  meter.record("default", { events: 100, bytes: 4000, duplicate: true });
  meter.record("payments", { events: 5, bytes: 300, duplicate: false });
  // Still in the first second: no whole second to divide by yet.
  assert.deepEqual([meter.snapshot("default").windowMs, meter.snapshot("default").perSecond.batches], [0, 0]);
  // Up 2.5 s: the rates are over the 2 whole seconds, not over the 10 s window.
  nowMs += 2000;
  const early = meter.snapshot("default");
  assert.equal(early.windowMs, 2000);
  assert.deepEqual(early.totals, { batches: 1, events: 100, bytes: 4000, duplicateBatches: 1 });
  assert.deepEqual(early.perSecond, { batches: 0.5, events: 50, bytes: 2000, duplicateBatches: 0.5 });
  assert.deepEqual(meter.tenants(), ["default", "payments"]);

  // One batch a second for 20 s: the window holds the last 10 whole seconds only.
  for (let second = 0; second < 20; second++) {
    nowMs += 1000;
    meter.record("default", { events: 10, bytes: 1000, duplicate: false });
  }
  const steady = meter.snapshot("default");
  assert.equal(steady.windowMs, 10_000);
  assert.equal(steady.totals.batches, 21);
  assert.deepEqual(steady.perSecond, { batches: 1, events: 10, bytes: 1000, duplicateBatches: 0 });

  // Quiet for longer than the window: the rates fall to 0; the totals stay.
  nowMs += 15_000;
  const quiet = meter.snapshot("default");
  assert.deepEqual(quiet.perSecond, { batches: 0, events: 0, bytes: 0, duplicateBatches: 0 });
  assert.equal(quiet.totals.events, 300);
  // A slot reused after the window passed starts empty: only the new batch counts, once its second is whole.
  meter.record("default", { events: 7, bytes: 70, duplicate: false });
  nowMs += 1000;
  assert.equal(meter.snapshot("default").perSecond.events, 0.7);
});
