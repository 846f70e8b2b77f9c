/**
 * The acknowledging HTTP endpoint Fluent Bit ships into in
 * bench/fluentbit.bench.ts: a Node HTTP server on 127.0.0.1 that reads
 * each request's whole body, decompresses it by its Content-Encoding (zstd,
 * gzip or none), counts its newline-terminated lines (out_http's json_lines:
 * one record per line) and only then answers 200. A body it cannot decode
 * is answered 400 and counted.
 *
 * Fair to the peer: it does less per byte than the logship collector does
 * before its ack (no parsing of events, no log write, no fsync), and it runs
 * in the benchmark's own process, apart from the shipper it measures.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { gunzipSync, zstdDecompressSync } from "node:zlib";

/** Largest request body accepted (Fluent Bit's chunks are about 2 MB of records before compression); a larger one is answered 413 and counted as rejected. */
const BODY_BYTES_MAX = 64 * 2 ** 20;

export interface EndpointCounts {
  requests: number;
  /** Requests answered 400 or 413 (their lines are not counted). */
  rejectedRequests: number;
  /** Body bytes as they came over the wire (compressed). */
  wireBytes: number;
  /** Body bytes after decompression. */
  bodyBytes: number;
  lines: number;
  /** Date.now() when the last counted request was answered, or null before the first. */
  lastLinesAtMs: number | null;
}

export interface AckingEndpoint {
  url: string;
  counts(): EndpointCounts;
  close(): Promise<void>;
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === undefined || encoding === "" || encoding === "identity") return body;
  if (encoding === "zstd") return zstdDecompressSync(body);
  if (encoding === "gzip") return gunzipSync(body);
  throw new Error(`unsupported Content-Encoding ${encoding}`);
}

function countNewlines(data: Buffer): number {
  let count = 0;
  for (let index = data.indexOf(10); index !== -1; index = data.indexOf(10, index + 1)) count++;
  return count;
}

/** Starts the endpoint on 127.0.0.1:`port`. */
export async function startAckingEndpoint(port: number): Promise<AckingEndpoint> {
  const counts: EndpointCounts = { requests: 0, rejectedRequests: 0, wireBytes: 0, bodyBytes: 0, lines: 0, lastLinesAtMs: null };
  const reject = (response: ServerResponse, status: number, reason: string): void => {
    counts.rejectedRequests++;
    response.writeHead(status, { "content-type": "text/plain" }).end(reason);
  };
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    counts.requests++;
    const chunks: Buffer[] = [];
    let received = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > BODY_BYTES_MAX) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => {
      if (tooLarge) return reject(response, 413, `body over ${BODY_BYTES_MAX} bytes`);
      const wire = Buffer.concat(chunks);
      let body: Buffer;
      try {
        body = decode(wire, request.headers["content-encoding"]);
      } catch (error) {
        return reject(response, 400, (error as Error).message);
      }
      counts.wireBytes += wire.length;
      counts.bodyBytes += body.length;
      counts.lines += countNewlines(body);
      counts.lastLinesAtMs = Date.now();
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
