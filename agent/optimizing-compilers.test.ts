import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../shared/logger.ts";
import { LOAD_BYTES, OptimizingCompilers } from "./optimizing-compilers.ts";

const MiB = 1024 * 1024;

function harness(flags: readonly string[]): { compilers: OptimizingCompilers; read: (bytes: number) => void; set: string[]; log: string[] } {
  let bytesRead = 0;
  const set: string[] = [];
  const log: string[] = [];
  const logger = createLogger({ level: "info", format: "json", write: (line) => log.push(line) });
  const compilers = new OptimizingCompilers({ flags, bytesRead: () => bytesRead, logger, intervalMs: 1000, setFlags: (value) => set.push(value) });
  return { compilers, read: (bytes) => (bytesRead += bytes), set, log };
}

test("deferred compilers are turned on, once, when 1 MiB is read within one window", () => {
  const { compilers, read, set, log } = harness(["--turbo-filter=*", "--maglev-filter=*"]);
  assert.equal(LOAD_BYTES, MiB);
  compilers.start(0);
  assert.equal(compilers.state, "deferred");
  read(MiB - 1);
  compilers.observe(500);
  assert.deepEqual(set, [], "below the load");
  read(1);
  compilers.observe(900);
  assert.deepEqual(set, ["--turbo-filter=* --maglev-filter=*"]);
  assert.equal(compilers.state, "on");
  assert.match(log.join(""), /load: optimizing compilers on/);
  read(10 * MiB);
  compilers.observe(1500);
  assert.deepEqual(set, ["--turbo-filter=* --maglev-filter=*"], "set once");
  compilers.stop();
});

test("a trickle below 1 MiB per window never turns them on", () => {
  const { compilers, read, set } = harness(["--turbo-filter=*"]);
  compilers.start(0);
  for (let now = 250; now <= 60_000; now += 250) {
    read(MiB / 8);
    compilers.observe(now);
  }
  assert.deepEqual(set, [], "4 reads of 1/8 MiB per second: half a MiB a window");
  assert.equal(compilers.state, "deferred");
  compilers.stop();
});

test("the timer looks at the bytes read when no batch is spooled (transforms that drop everything)", (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const { compilers, read, set } = harness(["--turbo-filter=*"]);
  compilers.start();
  read(2 * MiB);
  assert.deepEqual(set, []);
  t.mock.timers.tick(1000);
  assert.deepEqual(set, ["--turbo-filter=*"]);
  compilers.stop();
});

test("a process that did not start with them off has nothing deferred and starts no timer", (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const { compilers, read, set } = harness([]);
  compilers.start();
  assert.equal(compilers.state, "not_deferred");
  read(100 * MiB);
  compilers.observe();
  t.mock.timers.tick(5000);
  assert.deepEqual(set, []);
  assert.equal(compilers.state, "not_deferred");
});
