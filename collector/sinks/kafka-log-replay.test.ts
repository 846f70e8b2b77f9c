import { test } from "node:test";
import assert from "node:assert/strict";
import type { PartitionOffsets } from "../log/kafka/offsets.ts";
import { KafkaReplayRange, planKafkaReplay, replayGroup, type KafkaReplayStart } from "./kafka-log-replay.ts";

/** Partition 0: records 0..99, committed 80; 1: retention left 50..119, committed 120; 2: empty, nothing committed. */
const PARTITIONS: PartitionOffsets[] = [
  { partition: 0, firstOffset: 0n, endOffset: 100n },
  { partition: 1, firstOffset: 50n, endOffset: 120n },
  { partition: 2, firstOffset: 0n, endOffset: 0n },
];
const COMMITTED = new Map<number, bigint | null>([
  [0, 80n],
  [1, 120n],
  [2, null],
]);

function plan(start: KafkaReplayStart): [number, bigint, number][] {
  return planKafkaReplay({ topic: "logship", partitions: PARTITIONS, committed: COMMITTED, start }).map((entry) => [entry.partition, entry.fromOffset, entry.records]);
}

test("a replay's range per partition: from the start asked for to the sink group's committed offset, nothing where it committed nothing", () => {
  assert.deepEqual(plan({ offset: 60 }), [
    [0, 60n, 20],
    [1, 60n, 60],
    [2, 60n, 0],
  ]);
  // Past the committed offset: nothing to replay there (the sink's own runner delivers it anyway).
  assert.deepEqual(plan({ offset: 90 }), [
    [0, 90n, 0],
    [1, 90n, 30],
    [2, 90n, 0],
  ]);
  assert.deepEqual(plan({ partitionOffsets: new Map([[1, 100]]) }), [
    [0, 100n, 0],
    [1, 100n, 20],
    [2, 0n, 0],
  ]);
  // A time: each partition's first record at or after it; none (null) means nothing.
  assert.deepEqual(plan({ atTime: new Map([[0, 10n], [1, null], [2, null]]) }), [
    [0, 10n, 70],
    [1, 120n, 0],
    [2, 0n, 0],
  ]);
});

test("a replay start outside the log is refused with what to do", () => {
  assert.throws(() => plan({ offset: 121 }), { code: "LOGSHIP_REPLAY_OFFSET_BEYOND_END", message: "offset 121 is beyond the end of every partition of topic logship (next offsets: 0:100, 1:120, 2:0)" });
  assert.throws(() => plan({ partitionOffsets: new Map([[0, 101]]) }), { code: "LOGSHIP_REPLAY_OFFSET_BEYOND_END", message: "offset 101 is beyond the end of partition 0 of topic logship (its next offset is 100)" });
  assert.throws(() => plan({ partitionOffsets: new Map([[3, 0]]) }), { code: "LOGSHIP_REPLAY_REQUEST", message: "topic logship has no partition 3 (it has 3: 0 to 2)" });
  // Offset 0 of partition 1 is gone, and the sink had committed past it there.
  assert.throws(() => plan({ offset: 0 }), {
    code: "LOGSHIP_REPLAY_OFFSET_DELETED",
    message: "offset 0 of partition 1 was deleted by retention (the partition starts at offset 50); give a time (--from 7d) or offsets per partition (--from 0:0,1:50,2:0)",
  });
  assert.throws(() => plan({ partitionOffsets: new Map([[1, 49]]) }), { code: "LOGSHIP_REPLAY_OFFSET_DELETED" });
});

test("a replay's progress: records inside the range and not passed yet, advanced per partition, done when every partition is passed", () => {
  const range = new KafkaReplayRange(replayGroup("search"), "default", planKafkaReplay({ topic: "logship", partitions: PARTITIONS, committed: COMMITTED, start: { offset: 70 } }));
  assert.match(range.group, /^logship-replay-search-[0-9a-f]{8}$/);
  assert.deepEqual(range.fetchOffsets("logship"), [
    { topic: "logship", partition: 0, offset: 70n },
    { topic: "logship", partition: 1, offset: 70n },
  ]);
  assert.deepEqual([range.covers(0, 69n), range.covers(0, 70n), range.covers(0, 79n), range.covers(0, 80n), range.covers(2, 0n)], [false, true, true, false, false]);
  assert.equal(range.remainingRecords(), 60);
  range.advance(0, 75n);
  range.advance(0, 72n);
  assert.equal(range.covers(0, 74n), false);
  range.advance(0, 500n);
  assert.deepEqual(range.fetchOffsets("logship"), [{ topic: "logship", partition: 1, offset: 70n }]);
  assert.equal(range.done, false);
  range.advance(1, 120n);
  range.advance(2, 5n);
  assert.deepEqual([range.done, range.remainingRecords()], [true, 0]);
  assert.deepEqual(
    range.progress().map((entry) => [entry.partition, entry.fromOffset, entry.toOffset, entry.nextOffset]),
    [
      [0, 70n, 80n, 80n],
      [1, 70n, 120n, 120n],
    ],
  );
});
