import { test } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../shared/logger.ts";
import { KafkaLogFanout } from "./kafka-log-fanout.ts";
import { ReplayError } from "./replay-error.ts";
import type { Sink } from "./types.ts";

test("a replay of a sink that holds events (the archive) is refused with the Kafka log before Kafka is asked", async () => {
  const holding: Sink = { name: "archive", send: () => Promise.resolve({ kind: "delivered" }), heldFrom: () => null };
  // No broker listens there: a refusal that asked Kafka would be a 503, not this 400.
  const fanout = new KafkaLogFanout({ sinks: [holding], brokers: ["127.0.0.1:1"], topic: "logship", timeoutMs: 500, sessionTimeoutMs: 6000, dataDirectory: "/nonexistent", logger: silentLogger });
  try {
    await assert.rejects(fanout.replay({ sink: "archive", tenant: "default", from: { offset: 0 } }), (error: unknown) => {
      assert.ok(error instanceof ReplayError);
      assert.equal(error.code, "LOGSHIP_REPLAY_REQUEST");
      assert.match(error.message, /sink archive cannot be replayed with the Kafka log/);
      return true;
    });
  } finally {
    await fanout.destroy();
  }
});
