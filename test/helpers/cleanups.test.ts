import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanups } from "./cleanups.ts";

test("cleanups run last-registered first, every one even after failures, which are reported together", async () => {
  let hook: (() => Promise<void>) | undefined;
  const defer = cleanups({ after: (registered) => (hook = registered) });
  const ran: string[] = [];
  defer(() => ran.push("remove directory"));
  defer(() => {
    ran.push("stop collector");
    throw new Error("collector would not stop");
  });
  defer(async () => {
    ran.push("stop agent");
    throw new Error("agent would not stop");
  });
  await assert.rejects(() => (hook as () => Promise<void>)(), (error: unknown) => error instanceof AggregateError && error.errors.length === 2);
  assert.deepEqual(ran, ["stop agent", "stop collector", "remove directory"]);
});
