import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatDuration, table } from "./table.ts";

test("status tables: columns padded to the widest cell; sizes in binary units; durations in their two largest units", () => {
  assert.equal(table(["sink", "lag"], [["search", "0"], ["kafka", "1200"]]), "sink    lag\nsearch  0\nkafka   1200");
  assert.deepEqual([0, 1023, 1536, 5 * 1024 ** 3].map(formatBytes), ["0 B", "1023 B", "1.5 KiB", "5.0 GiB"]);
  assert.deepEqual([0, 1500, 59_900, 200_000, 9_000_000, 90_061_000].map(formatDuration), ["0s", "1.5s", "59.9s", "3m 20s", "2h 30m", "1d 1h"]);
});
