import { test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { DedupeIndex, SEQS_PER_AGENT_MAX } from "./dedupe.ts";

test("stored seqs are duplicates per tenant and agent; other agents and tenants are separate", () => {
  const index = new DedupeIndex(silentLogger);
  index.noteStored("default", "a", 5, 0, 100);
  assert.deepEqual(index.claim("default", "a", 5, 0), { kind: "duplicate", offset: 100 });
  assert.equal(index.claim("default", "b", 5, 0).kind, "claimed");
  assert.equal(index.claim("payments", "a", 5, 0).kind, "claimed");
});

test("a claim makes a second copy wait; commit makes it a duplicate, release lets it claim", async () => {
  const index = new DedupeIndex(silentLogger);
  const first = index.claim("default", "a", 1, 0);
  assert.equal(first.kind, "claimed");
  const second = index.claim("default", "a", 1, 0);
  assert.equal(second.kind, "busy");
  if (first.kind !== "claimed" || second.kind !== "busy") return;
  first.release();
  await second.settled;
  const third = index.claim("default", "a", 1, 0);
  assert.equal(third.kind, "claimed");
  if (third.kind !== "claimed") return;
  third.commit(42);
  assert.deepEqual(index.claim("default", "a", 1, 0), { kind: "duplicate", offset: 42 });
  assert.throws(() => third.commit(43), /once/);
});

test("the floor prunes older seqs, only rises, and a seq below it is a duplicate", () => {
  const index = new DedupeIndex(silentLogger);
  for (let seq = 0; seq < 10; seq++) index.noteStored("t", "a", seq, 0, seq * 10);
  assert.equal(index.size, 10);
  index.noteStored("t", "a", 10, 8, 100);
  assert.equal(index.size, 3, "seqs 8, 9, 10 remain");
  assert.deepEqual(index.claim("t", "a", 3, 2), { kind: "duplicate", offset: null }, "a lower floor does not bring seqs back");
  assert.deepEqual(index.claim("t", "a", 9, 0), { kind: "duplicate", offset: 90 });
});

test("an agent whose floor never rises is capped; the oldest seqs are forgotten", () => {
  const index = new DedupeIndex(silentLogger);
  for (let seq = 0; seq < SEQS_PER_AGENT_MAX + 5; seq++) index.noteStored("t", "a", seq, 0, seq);
  assert.equal(index.size, SEQS_PER_AGENT_MAX);
  assert.equal(index.claim("t", "a", 0, 0).kind, "claimed");
  assert.equal(index.claim("t", "a", SEQS_PER_AGENT_MAX + 4, 0).kind, "duplicate");
});
