/**
 * The Parquet encoder thread (parquet-encoder.ts starts it): one
 * hyparquet-writer ParquetWriter per open file, fed packed row groups
 * (parquet-rows.ts), answering each request with the file's next bytes —
 * the header at `open`, a row group's column chunks, the footer at
 * `finish` — which the main thread writes to the file. One request at a
 * time, in arrival order; the bytes are transferred, not copied.
 */
import { parentPort } from "node:worker_threads";
import { constants, zstdCompressSync } from "node:zlib";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { EncoderAnswer, EncoderRequest } from "./parquet-encoder.ts";
import { columnSources } from "./parquet-rows.ts";
import { COLUMN_OPTIONS, PAGE_BYTES, PARQUET_SCHEMA } from "./parquet-schema.ts";

const port = parentPort;
if (port === null) throw new Error("parquet-encoder-worker.ts runs as a worker thread (parquet-encoder.ts starts it)");

/** The encoder's output buffer starts this large and grows as needed (a row group's chunks). */
const OUTPUT_BYTES_INITIAL = 1 << 20;

interface FileState {
  bytes: ByteWriter;
  parquet: ParquetWriter;
}

const files = new Map<number, FileState>();

port.on("message", (request: EncoderRequest) => {
  let answer: EncoderAnswer;
  try {
    answer = { id: request.id, bytes: handle(request) };
  } catch (error) {
    files.delete(request.file);
    answer = { id: request.id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(answer, "bytes" in answer ? [answer.bytes.buffer as ArrayBuffer] : []);
});

function handle(request: EncoderRequest): Uint8Array {
  if (request.kind === "open") {
    const bytes = new ByteWriter(OUTPUT_BYTES_INITIAL);
    const zstdLevel = request.zstdLevel;
    const parquet = new ParquetWriter({
      writer: bytes,
      schema: PARQUET_SCHEMA,
      codec: request.compression === "zstd" ? "ZSTD" : "SNAPPY",
      compressors: { ZSTD: (input) => zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: zstdLevel } }) },
      createdBy: "logship archive",
    });
    files.set(request.file, { bytes, parquet });
    return taken(bytes);
  }
  const state = files.get(request.file);
  if (request.kind === "drop") {
    files.delete(request.file);
    return new Uint8Array(0);
  }
  if (state === undefined) throw new Error(`file ${request.file} is not open on this encoder thread (it was dropped, or the thread was restarted)`);
  if (request.kind === "rowGroup") {
    const rows = request.rows;
    void state.parquet.write({ columnData: columnSources(rows, COLUMN_OPTIONS), rowGroupSize: rows.rows, pageSize: PAGE_BYTES });
    return taken(state.bytes);
  }
  files.delete(request.file);
  void state.parquet.finish();
  return taken(state.bytes);
}

/** The bytes encoded since the last call, in a buffer of their own; the writer's `offset` keeps counting (the footer's offsets are file offsets). */
function taken(bytes: ByteWriter): Uint8Array {
  const out = new Uint8Array(bytes.getBuffer());
  bytes.index = 0;
  return out;
}
