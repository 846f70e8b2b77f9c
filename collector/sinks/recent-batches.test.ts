/**
 * Skipping second copies of a batch in a Kafka log runner's session: a
 * copy is recognised by (tenant, agent, seq); nothing else is ever skipped,
 * and memory stays bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecentBatches, SEQS_PER_AGENT_MAX } from "./recent-batches.ts";

test("a second copy of (tenant, agent, seq) is recognised; other tenants, agents and seqs are not copies", () => {
  const recent = new RecentBatches();
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 5, floor: 0 }), false);
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 5, floor: 0 }), true);
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 6, floor: 0 }), false);
  assert.equal(recent.takeOnce({ tenant: "default", agent: "b", seq: 5, floor: 0 }), false);
  assert.equal(recent.takeOnce({ tenant: "payments", agent: "a", seq: 5, floor: 0 }), false);
  assert.equal(recent.size, 4);
});

test("a rising floor forgets the seqs below it; a late copy below the floor is delivered, not guessed away", () => {
  const recent = new RecentBatches();
  for (let seq = 0; seq < 10; seq++) recent.takeOnce({ tenant: "default", agent: "a", seq, floor: 0 });
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 10, floor: 8 }), false);
  assert.equal(recent.size, 3, "8, 9 and 10 remain");
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 3, floor: 8 }), false);
  assert.equal(recent.size, 3, "a seq below the floor is not remembered");
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 9, floor: 8 }), true);
});

test("an agent whose floor never rises costs at most SEQS_PER_AGENT_MAX entries; the oldest go first", () => {
  const recent = new RecentBatches();
  for (let seq = 0; seq < SEQS_PER_AGENT_MAX + 10; seq++) recent.takeOnce({ tenant: "default", agent: "a", seq, floor: 0 });
  assert.equal(recent.size, SEQS_PER_AGENT_MAX);
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: SEQS_PER_AGENT_MAX + 9, floor: 0 }), true);
  assert.equal(recent.takeOnce({ tenant: "default", agent: "a", seq: 0, floor: 0 }), false, "forgotten: delivered again rather than skipped");
});
