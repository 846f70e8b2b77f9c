/**
 * Writes the golden input files whose exact bytes matter and are hard to
 * see or keep in an editor: CRLF line ends, invalid UTF-8, a BOM, tabs,
 * over-long lines, files without a final newline. The files it writes are
 * committed; run it only to change them:
 *
 *   npx node test/golden/make-inputs.ts
 *
 * then regenerate and re-check the expectations (see golden.test.ts).
 */
import { writeFileSync } from "node:fs";

const HERE = new URL("./", import.meta.url);

function write(path: string, ...parts: (string | Buffer)[]): void {
  const bytes = Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : part)));
  writeFileSync(new URL(path, HERE), bytes);
}

const bytes = (...values: number[]): Buffer => Buffer.from(values);

// ---- syslog: RFC 5424 with a BOM before MSG, RFC 3164 with an RFC 3339 time, failures
write(
  "parser-syslog/syslog.log",
  "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8\n",
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...\n',
  "<14>1 - - - - - - all header fields nil\n",
  "<30>2024-01-02T11:59:59.123456+00:00 web-1 systemd[1]: Started Session 42 of user deploy.\n",
  "<192>1 2024-01-02T10:00:00Z host app - - - PRI out of range\n",
  "hello world\n",
);

// ---- Java stack traces (tab-indented "at" lines, "Caused by:", "... N more")
write(
  "multiline-java/app.log",
  "2024-01-02 11:59:58,123 INFO  [main] com.example.App - Started in 2.3s\n",
  "2024-01-02 11:59:59,001 ERROR [http-nio-8080-exec-1] com.example.api.OrderController - Request failed\n",
  "java.lang.IllegalStateException: could not load order 1842\n",
  "\tat com.example.orders.OrderService.load(OrderService.java:88)\n",
  "\tat com.example.api.OrderController.get(OrderController.java:41)\n",
  "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n",
  "Caused by: java.sql.SQLTimeoutException: query timed out after 5000 ms\n",
  "\tat org.postgresql.jdbc.PgStatement.execute(PgStatement.java:420)\n",
  "\tat com.example.orders.OrderRepository.find(OrderRepository.java:57)\n",
  "\t... 2 more\n",
  "2024-01-02 12:00:00,500 INFO  [main] com.example.App - Retrying order 1842\n",
  "2024-01-02 12:00:01,000 WARN  [scheduler-1] com.example.Jobs - Job failed, will retry\n",
  "java.util.concurrent.ExecutionException: java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null\n",
  "\tat java.base/java.util.concurrent.FutureTask.report(FutureTask.java:122)\n",
  "\tat com.example.Jobs.run(Jobs.java:30)\n",
  "Caused by: java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null\n",
  "\tat com.example.Jobs.lambda$run$0(Jobs.java:27)\n",
  "\t... 1 more\n",
);

// ---- continuation lines start with white space (spaces or a tab); the first line is one
write(
  "multiline-continue/app.log",
  "  orphan continuation at the start of the file\n",
  "Jan 02 11:59:58 config loaded:\n",
  "  listen = :8080\n",
  "  workers = 4\n",
  "Jan 02 11:59:59 request served\n",
  "Jan 02 12:00:00 stack:\n",
  "\tat a.b.C.d(C.java:1)\n",
  "\tat a.b.C.e(C.java:2)\n",
);

// ---- CRLF line ends
write(
  "crlf/plain.log",
  "first line\r\n",
  "\r\n", // an empty CRLF line
  "a lone \r inside a line stays\r\n",
  "two carriage returns\r\r\n", // only the one before \n belongs to the line end
  "LF only in a CRLF file\n",
  "last line, CR and no LF\r",
);
write(
  "crlf/trace.log",
  "2024-01-02 11:59:59 ERROR failed\r\n",
  "\tat com.example.A.b(A.java:1)\r\n",
  "\tat com.example.A.c(A.java:2)\r\n",
  "2024-01-02 12:00:00 INFO ok\r\n",
);
write(
  "crlf/api.log",
  '{"time":"2024-01-02T11:59:58Z","message":"json with CRLF"}\r\n',
  'level=info msg="logfmt lookalike in a json source"\r\n',
);

// ---- invalid UTF-8: each maximal invalid subpart becomes one U+FFFD
write(
  "invalid-utf8/plain.log",
  "valid ascii\n",
  "bad byte ", bytes(0xff), " here\n",
  "cut sequence ", bytes(0xe2, 0x82), " end\n", // first two bytes of "€": one U+FFFD
  "overlong ", bytes(0xc0, 0xaf), "\n", // 0xC0 never starts a sequence: two U+FFFD
  "lone continuations ", bytes(0x80, 0x80), "\n",
  "surrogate ", bytes(0xed, 0xa0, 0x80), "\n", // UTF-16 surrogate encoded: three U+FFFD
  "latin-1 caf", bytes(0xe9), "\n",
  "valid é 日本 🚀\n",
);
write(
  "invalid-utf8/api.log",
  '{"message":"caf', bytes(0xe9), ' au lait","ok":true}\n',
);

// ---- over-long lines, max_line_bytes: 64
const x64 = "0123456789abcdef".repeat(4);
write(
  "long-lines/plain.log",
  "short line\n",
  x64, "\n", // exactly 64 bytes: kept whole
  x64, "\r\n", // exactly 64 bytes before CRLF: kept whole
  x64, "X\n", // 65 bytes: cut
  "y".repeat(200), " the rest is skipped\n",
  "a".repeat(63), "é and more after it\n", // é is bytes 63-64: cut before it, at 63
  "b".repeat(61), "🚀 and more after it\n", // 🚀 is bytes 61-64: cut before it, at 61
  "c".repeat(62), "日本\n", // 日 is bytes 62-64: cut at 62
  "next line is fine\n",
);
write(
  "long-lines/partial.log",
  "ok\n",
  "z".repeat(100), // over-long and no final newline
);
write(
  "long-lines/api.log",
  '{"message":"', "m".repeat(80), '"}\n', // cut JSON does not parse
  '{"message":"fits"}\n',
);

// ---- files without a final newline
write("no-final-newline/partial.log", "first\nsecond\nthird without newline");
write("no-final-newline/single.log", "only line, no newline");
write("no-final-newline/empty.log", "");
write(
  "no-final-newline/trace.log",
  "2024-01-02 11:59:59 ERROR failed\n",
  "  at step 1\n",
  "2024-01-02 12:00:00 ERROR failed again\n",
  "  at step 2 (no newline)",
);
