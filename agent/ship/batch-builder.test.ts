import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { BatchBuilder } from "./batch-builder.ts";
import { blockEvents, type BlockOutput, type EventBlock } from "../events.ts";
import { payloadEvents, validatePayload, WireError } from "../../shared/wire/batch.ts";
import { startTailer, testSource } from "../../test/helpers/tail-harness.ts";
import { buildParser } from "../parsers/index.ts";
import type { Event } from "../../shared/event.ts";

/** Tail `content` with the given source options; return the blocks' events and the batch's decoded events. */
async function roundTrip(content: Buffer, options: Parameters<typeof testSource>[0]): Promise<{ direct: Event[]; decoded: Event[] }> {
  const dir = mkdtempSync(join(tmpdir(), "logship-wire-"));
  try {
    writeFileSync(join(dir, "a.log"), content);
    const direct: Event[] = [];
    const builder = new BatchBuilder();
    const output: BlockOutput = {
      async send(block: EventBlock) {
        direct.push(...blockEvents(block));
        builder.add(block, 0);
        block.ack();
      },
    };
    const tailer = startTailer({ sources: [testSource({ ...options, paths: [join(dir, "*.log")] })], once: true, output, tail: { readBytesPerPass: 97 } });
    await tailer.done;
    const built = builder.build({ agent: "a1", host: "test-host", seq: 1, floor: 1, created_ms: 5 });
    const summary = validatePayload(built.payload);
    assert.equal(summary.events, direct.length);
    return { direct, decoded: [...payloadEvents(built.payload)] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lineContent = fc
  .array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("", "\r", "x".repeat(90), "é\u{1F600}")), { maxLength: 40 })
  .chain((lines) => fc.tuple(fc.constant(lines), fc.boolean(), fc.uint8Array({ maxLength: 5 })))
  .map(([lines, newline, garbage]) => Buffer.concat([Buffer.from(lines.map((line) => line.replaceAll("\n", "")).join("\n") + (newline ? "\n" : "")), Buffer.from(garbage.filter((byte) => byte !== 10))]));

test("wire: decoding a batch gives exactly the events the tailer made (raw, truncated, multiline, parsed)", async () => {
  await fc.assert(
    fc.asyncProperty(lineContent, fc.constantFrom("raw", "truncating", "multiline", "json"), async (content, mode) => {
      const options =
        mode === "truncating"
          ? { paths: [], lineBytesMax: 64 }
          : mode === "multiline"
            ? { paths: [], multiline: { start: "^[a-m]", negate: false, linesMax: 3, bytesMax: 1 << 20, timeoutMs: 1000 } }
            : mode === "json"
              ? { paths: [], parser: buildParser({ type: "json" }) }
              : { paths: [] };
      const { direct, decoded } = await roundTrip(content, options);
      assert.deepEqual(decoded, direct);
    }),
    { numRuns: 60 },
  );
});

test("wire: damaged payloads are rejected with a reason", () => {
  const builder = new BatchBuilder();
  const payload = builder.build({ agent: "a", host: "h", seq: 1, floor: 0, created_ms: 1 }).payload;
  assert.equal(validatePayload(payload).events, 0);
  const flipped = Buffer.from(payload);
  flipped[10] = (flipped[10] as number) ^ 0xff;
  assert.throws(() => validatePayload(flipped), (error: unknown) => error instanceof WireError && /CRC/.test(error.message));
  assert.throws(() => validatePayload(Buffer.from("garbage bytes here")), WireError);
  assert.throws(() => validatePayload(payload.subarray(0, 6)), WireError);
});

test("blocks of one stream whose rule changed within a batch (a reload) keep their own fields", () => {
  const builder = new BatchBuilder();
  const block = (fields: Record<string, unknown>, offset: number, message: string): EventBlock => ({
    stream: { key: "k1", source: "app", path: "/var/log/app.log", host: "h", fields },
    observedMs: 0,
    endOffset: offset + message.length + 1,
    count: 1,
    lines: null,
    decoded: { offsets: [offset], messages: [message], fields: [undefined], timesMs: [undefined] },
    truncated: [],
    ack: () => {},
    release: () => {},
  });
  const before = { team: "a" };
  builder.add(block(before, 0, "one"), 0);
  builder.add(block(before, 4, "two"), 0);
  builder.add(block({ team: "b" }, 8, "three"), 0);
  const built = builder.build({ agent: "a1", host: "h", seq: 1, floor: 1, created_ms: 5 });
  const events = [...payloadEvents(built.payload)];
  assert.deepEqual(events.map((event) => [event.message, event.fields.team]), [["one", "a"], ["two", "a"], ["three", "b"]]);
  assert.deepEqual(built.ranges, [{ key: "k1", endOffset: 14 }]);
});
