import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findFluentBit, shipThroughFluentBit } from "../../bench/fluent-bit-delivery.ts";

const peer = findFluentBit();

test("the built Fluent Bit ships every line of the files into the acknowledging endpoint, zstd on the wire", { skip: peer.kind === "missing" ? `${peer.reason} (the peer is built by hand, outside the repo)` : false }, async (t) => {
  assert.ok(peer.kind === "found");
  const directory = mkdtempSync(join(tmpdir(), "logship-fluent-bit-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const files = [0, 1].map((index) => {
    const path = join(directory, `app-${index}.log`);
    writeFileSync(path, Array.from({ length: 5000 }, (_, line) => `file ${index} line ${line} {"level":"info","n":${line}}\n`).join(""));
    return path;
  });
  const run = await shipThroughFluentBit({ binary: peer.binary, directory: join(directory, "run"), files });
  assert.equal(run.lines, 10_000);
  assert.equal(run.linesReceived, 10_000);
  assert.equal(run.stalled, false);
  assert.equal(run.endpoint.rejectedRequests, 0);
  assert.ok(run.endpoint.wireBytes < run.endpoint.bodyBytes, "bodies arrive compressed");
  // /proc counts CPU in 10 ms ticks: shipping 10,000 lines may take less than one.
  assert.ok(run.cpuSeconds >= 0 && run.peakRssMb > 0);
});
