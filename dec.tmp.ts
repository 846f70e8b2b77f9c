import { isAscii } from "node:buffer";
import { readFileSync } from "node:fs";
const buf = readFileSync("/tmp/prof/data/mixed-0.log").subarray(0, 256 * 1024);
const starts: number[] = [], ends: number[] = [];
let s = 0; for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) { starts.push(s); ends.push(i); s = i + 1; }
const n = starts.length;
function time(name: string, f: () => void) { f(); const t = process.hrtime.bigint(); for (let k = 0; k < 100; k++) f(); console.log(name.padEnd(20), (Number(process.hrtime.bigint() - t) / (100 * n)).toFixed(0), "ns/line"); }
let sink: string[] = [];
time("toString utf8 each", () => { sink = []; for (let i = 0; i < n; i++) sink.push(buf.toString("utf8", starts[i], ends[i])); });
time("isAscii+latin1+slice", () => { sink = []; const first = starts[0]!; const ascii = isAscii(buf.subarray(first, ends[n - 1])); const whole = buf.latin1Slice(first, ends[n - 1]!); for (let i = 0; i < n; i++) sink.push(whole.slice(starts[i]! - first, ends[i]! - first)); });
console.log(n, "lines", isAscii(buf));
