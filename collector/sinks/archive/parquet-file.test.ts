import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import type { SinkEvent } from "../types.ts";
import { ParquetEncoder } from "./parquet-encoder.ts";
import { parquetFormat } from "./parquet-file.ts";

const BASE_MS = Date.parse("2026-03-01T10:00:00.000Z");
const MESSAGES = ["GET /index.html 200", "grüße aus Köln", "日本語のログ行", "emoji 🚀 launched", ""];

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-parquet-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Events that exercise every packed column: several hosts, sources, paths and tenants, text that is not ASCII, fields or none, times that change. */
function event(index: number): SinkEvent {
  const fields: Record<string, unknown> = index % 3 === 0 ? {} : { n: index, nested: { tag: `t${index % 4}`, list: [1, "zwei", null] }, text: "ünïcödé" };
  return {
    tenant: index % 5 === 0 ? "acme-prod" : "default",
    id: `abcdefghijklmnop${index.toString(36)}`,
    time: new Date(BASE_MS + Math.floor(index / 7) * 1000).toISOString(),
    observed_time: new Date(BASE_MS + 60_000 + index).toISOString(),
    host: `web-${index % 3}`,
    source: index % 2 === 0 ? "nginx" : "app",
    path: `/var/log/${index % 2 === 0 ? "nginx/access" : "app/app"}.log`,
    offset: index * 97,
    message: `${MESSAGES[index % MESSAGES.length]} #${index}`,
    fields,
    ...(index % 11 === 0 ? { truncated: true as const } : {}),
  };
}

async function readRows(path: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: await asyncBufferFromFile(path), compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } });
}

test("parquet through the encoder thread: row groups sent while the next gathers, every column read back as written by hyparquet and DuckDB", async (t) => {
  const directory = temporaryDirectory(t);
  const path = join(directory, "all.parquet");
  const writer = await parquetFormat("zstd", 6, 400).create(path);
  const events = Array.from({ length: 2_500 }, (_, index) => event(index));
  // Sends of 150: a row group is handed over at the first flush past 400 rows, while the next sends append.
  for (let from = 0; from < events.length; from += 150) {
    for (const item of events.slice(from, from + 150)) writer.append(item);
    await writer.flush();
  }
  await writer.finish();

  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  assert.deepEqual(metadata.row_groups.map((group) => Number(group.num_rows)), [450, 450, 450, 450, 450, 250]);
  const messageChunk = metadata.row_groups[0]?.columns.find((column) => column.meta_data?.path_in_schema[0] === "message");
  assert.deepEqual(messageChunk?.meta_data?.encodings, ["DELTA_LENGTH_BYTE_ARRAY"]);
  const rows = await readRows(path);
  assert.equal(rows.length, events.length);
  for (const [index, row] of rows.entries()) {
    const expected = events[index] as SinkEvent;
    assert.deepEqual(row, {
      time: new Date(expected.time),
      observed_time: new Date(expected.observed_time),
      host: expected.host,
      source: expected.source,
      path: expected.path,
      offset: BigInt(expected.offset),
      message: expected.message,
      id: expected.id,
      tenant: expected.tenant,
      fields: expected.fields,
      truncated: expected.truncated === true,
    });
  }

  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const quoted = path.replaceAll("'", "''");
    const reader = await connection.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(length(message)) AS chars, count(*) FILTER (WHERE truncated) AS truncated, max(json_extract(fields, '$.nested.tag')::VARCHAR) AS tag FROM read_parquet('${quoted}')`);
    const [summary] = reader.getRowObjectsJson();
    assert.deepEqual(summary, {
      n: "2500",
      ids: "2500",
      chars: String(events.reduce((sum, item) => sum + [...item.message].length, 0)),
      truncated: String(events.filter((item) => item.truncated === true).length),
      tag: '"t3"',
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});

test("an encoder thread that dies fails the files it held (ParquetEncoderError, abort still closes); the next file gets a new thread", async (t) => {
  const directory = temporaryDirectory(t);
  const encoder = new ParquetEncoder({ workerUrl: new URL("../../testing/dying-parquet-encoder-worker.ts", import.meta.url) });
  const format = parquetFormat("zstd", 3, 100, encoder);
  const doomed = await format.create(join(directory, "doomed.parquet"));
  const bystander = await format.create(join(directory, "bystander.parquet"));
  for (let index = 0; index < 100; index++) doomed.append({ ...event(index), message: `\u0000 kills the thread ${index}` });
  for (let index = 0; index < 10; index++) bystander.append(event(index));
  await doomed.flush(); // handed over; the thread dies on it
  await assert.rejects(doomed.finish(), { code: "LOGSHIP_PARQUET_ENCODER" });
  await doomed.abort();
  await assert.rejects(bystander.finish(), { code: "LOGSHIP_PARQUET_ENCODER" });
  await bystander.abort();

  const next = await format.create(join(directory, "next.parquet"));
  for (let index = 0; index < 250; index++) next.append(event(index));
  await next.flush();
  await next.finish();
  assert.deepEqual((await readRows(join(directory, "next.parquet"))).map((row) => row.id), Array.from({ length: 250 }, (_, index) => event(index).id));
});
