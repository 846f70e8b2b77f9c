import { test } from "node:test";
import assert from "node:assert/strict";
import { EventDecoder } from "../tail/decode.ts";
import type { LineRun } from "../tail/splitter.ts";
import { encodePayload, eventsSegment, payloadEvents } from "../../shared/wire/batch.ts";
import { applyTransforms } from "./block.ts";
import { compileTransforms } from "./chain.ts";
import { transformsSchema } from "./schema.ts";

/** The lines of `text` ("\n" endings) as the splitter hands them over. */
function lineRun(text: Buffer): LineRun {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let start = 0, newline = text.indexOf(10); newline !== -1; start = newline + 1, newline = text.indexOf(10, start)) {
    starts.push(start);
    ends.push(newline);
  }
  return { buffer: text, bufferOffset: 0, starts, ends, truncated: [], consumedOffset: text.length };
}

/** Lines through decode, a chain and the EVENTS encoding, read back as the collector reads them. */
function shipped(lines: string[], steps: unknown[]): string[] {
  const chain = compileTransforms(transformsSchema.parse(steps), { streamLevelTail: true });
  assert.ok(chain !== null);
  const decoded = new EventDecoder(null, null, true).decode(lineRun(Buffer.from(lines.map((line) => `${line}\n`).join(""), "utf8")), 0);
  const out = applyTransforms(decoded, chain, { host: "h", source: "s", path: "/p", staticFields: {} }, 0);
  const header = { agent: "a", host: "h", seq: 1, floor: 1, created_ms: 0, streams: [{ key: "k".repeat(22), source: "s", path: "/p", fields: {} }] };
  return [...payloadEvents(encodePayload(header, [eventsSegment(0, 0, out.decoded ?? { offsets: [], messages: [], fields: [], timesMs: [] }, out.truncated)]))].map((event) => event.message);
}

const LINES = ["from 10.1.2.3 ok", "plain line", "mail bob@example.com", "déjà 10.0.0.1"];

test("messages a chain changed reach the wire as the chain left them: ASCII masks byte per character, kept lines copied, non-ASCII as UTF-8", () => {
  assert.deepEqual(shipped(LINES, [{ redact: { patterns: ["email", "ipv4"] } }]), ["from [REDACTED:ipv4] ok", "plain line", "mail [REDACTED:email]", "déjà [REDACTED:ipv4]"]);
  assert.deepEqual(shipped(LINES, [{ redact: { patterns: [{ regex: "[0-9]+\\.[0-9.]+", name: "address" }] } }, { drop: "plain" }]), ["from [REDACTED:address] ok", "mail bob@example.com", "déjà [REDACTED:address]"]);
  // A step that may write other characters: the chain does not keep messages ASCII, and they arrive whole.
  assert.deepEqual(shipped(LINES, [{ redact: { patterns: ["ipv4"] } }, { set: { message: "{message} – seen" } }]), ["from [REDACTED:ipv4] ok – seen", "plain line – seen", "mail bob@example.com – seen", "déjà [REDACTED:ipv4] – seen"]);
});
