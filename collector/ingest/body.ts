/**
 * Reading a request body under a byte limit. Bytes are counted as they
 * arrive; at the limit reading stops (the request is paused, nothing more is
 * kept) and the caller answers 413. The declared Content-Length is checked
 * before this, by the caller, so an honest oversized request is refused
 * without reading anything.
 */
import type { IncomingMessage } from "node:http";
import { IngestError } from "./errors.ts";

export function readBody(request: IncomingMessage, bytesMax: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const cleanup = (): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("close", onClose);
      request.off("error", onClose);
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > bytesMax) {
        cleanup();
        request.pause();
        chunks.length = 0;
        reject(new IngestError("LOGSHIP_INGEST_BODY_TOO_LARGE", `request body is larger than ingest.max_body_bytes (${bytesMax} bytes)`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes));
    };
    const onClose = (): void => {
      cleanup();
      reject(new IngestError("LOGSHIP_INGEST_BODY_INCOMPLETE", "the client closed the connection before the body was complete"));
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("close", onClose);
    request.on("error", onClose);
  });
}
