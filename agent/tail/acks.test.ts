import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AckTracker } from "./acks.ts";

test("acked offset moves only over a fully acknowledged prefix, whatever the ack order", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 60 }), fc.infiniteStream(fc.nat()), (sizes, picks) => {
      const tracker = new AckTracker(0);
      const ends: number[] = [];
      const acks: (() => void)[] = [];
      let end = 0;
      for (const size of sizes) {
        end += size;
        ends.push(end);
        acks.push(tracker.track(end));
      }
      const pending = new Set(acks.keys());
      const iterator = picks[Symbol.iterator]();
      while (pending.size > 0) {
        const list = [...pending];
        const index = list[(iterator.next().value as number) % list.length] as number;
        pending.delete(index);
        (acks[index] as () => void)();
        (acks[index] as () => void)(); // idempotent
        let firstUnacked = 0;
        while (firstUnacked < sizes.length && !pending.has(firstUnacked)) firstUnacked++;
        const expected = firstUnacked === 0 ? 0 : (ends[firstUnacked - 1] as number);
        assert.equal(tracker.ackedOffset, expected);
      }
      assert.equal(tracker.ackedOffset, end);
      assert.equal(tracker.inFlight, 0);
    }),
  );
});
