/**
 * The second step of a WebHDFS CREATE: PUT the file's bytes to the DataNode
 * URL the NameNode redirected to, answered 201 once HDFS closed the file.
 *
 * With node:http, not undici: the DataNode answers every CREATE with an
 * interim "100 Continue" before its final answer, whether or not the request
 * asked for one (Hadoop's WebHdfsHandler writes it unconditionally), and
 * undici's HTTP/1.1 client destroys the connection on any 100 it did not
 * ask for ("bad response"; its expectContinue is HTTP/2 only). node:http
 * skips interim answers and waits for the final one.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface DataNodeAnswer {
  status: number;
  body: string;
}

/** An answer's body is read up to this much (an error's JSON; a 201 has none). */
const ANSWER_BYTES_MAX = 64 * 1024;

/** PUTs `body` (`lengthBytes` long) to `url`; no activity on the socket for `timeoutMs` aborts it. Rejects with the socket's error when there is no answer. */
export async function putToDataNode(url: string, body: Readable, lengthBytes: number, timeoutMs: number): Promise<DataNodeAnswer> {
  const request = (url.startsWith("https:") ? httpsRequest : httpRequest)(url, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", "content-length": String(lengthBytes) },
    timeout: timeoutMs,
  });
  request.on("timeout", () => request.destroy(Object.assign(new Error(`no activity for ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
  const answered = new Promise<DataNodeAnswer>((resolve, reject) => {
    request.once("error", reject);
    request.once("response", (response: IncomingMessage) => {
      readAnswer(response).then((text) => resolve({ status: response.statusCode ?? 0, body: text }), reject);
    });
  });
  // A DataNode may answer an error before it read the whole body, which fails the pipeline too: the answer says why, so the pipeline's own error is only waited for.
  const sent = pipeline(body, request).then(
    () => undefined,
    () => undefined,
  );
  try {
    return await answered;
  } finally {
    await sent;
  }
}

async function readAnswer(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response) {
    const buffer = chunk as Buffer;
    if (bytes < ANSWER_BYTES_MAX) chunks.push(buffer.subarray(0, ANSWER_BYTES_MAX - bytes));
    bytes += buffer.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}
