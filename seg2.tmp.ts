const n = 5000;
const messages: string[] = [], fields: Record<string, unknown>[] = [];
for (let i = 0; i < n; i++) { messages.push(`127.0.0.${i % 255} - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb${i}.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08"`); fields.push({ env: "prod", origin: "bench/bench" }); }
const buf = Buffer.allocUnsafe(4 << 20);
function time(name: string, f: () => void) { f(); const t = process.hrtime.bigint(); for (let k = 0; k < 100; k++) f(); console.log(name.padEnd(20), (Number(process.hrtime.bigint() - t) / (100 * n)).toFixed(0), "ns/event"); }
time("stringify", () => { for (let i = 0; i < n; i++) JSON.stringify(fields[i]); });
time("byteLength", () => { for (let i = 0; i < n; i++) Buffer.byteLength(messages[i]!, "utf8"); });
time("write", () => { let p = 0; for (let i = 0; i < n; i++) p += buf.write(messages[i]!, p, "utf8"); });
time("utf8Write", () => { let p = 0; for (let i = 0; i < n; i++) p += (buf as any).utf8Write(messages[i]!, p); });
time("writeDoubleLE", () => { let p = 0; for (let i = 0; i < n; i++) p = buf.writeDoubleLE(i, p); });
time("writeUInt32LE", () => { let p = 0; for (let i = 0; i < n; i++) p = buf.writeUInt32LE(i, p); });
const enc = new TextEncoder();
time("encodeInto", () => { let p = 0; for (let i = 0; i < n; i++) p += enc.encodeInto(messages[i]!, buf.subarray(p)).written; });
time("latin1 write", () => { let p = 0; for (let i = 0; i < n; i++) p += buf.write(messages[i]!, p, "latin1"); });
time("latin1Write", () => { let p = 0; for (let i = 0; i < n; i++) p += (buf as any).latin1Write(messages[i]!, p); });
time("asciiWrite", () => { let p = 0; for (let i = 0; i < n; i++) p += (buf as any).asciiWrite(messages[i]!, p); });
const big = messages.join("\n");
time("one utf8 write", () => { buf.write(big, 0, "utf8"); });
time("one latin1 write", () => { buf.write(big, 0, "latin1"); });
