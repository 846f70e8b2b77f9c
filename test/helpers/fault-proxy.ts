/**
 * A fault-injecting TCP proxy (node:net) to put between an agent and a
 * collector. It understands just enough HTTP/1.1 to find where each request
 * ends (request head + `Content-Length`; undici does not pipeline here), and
 * for every POST request decides, with a seeded PRNG, on one of:
 *
 * - `dropMidRequest`: forward only part of the request (some of its head or
 *   body), then cut both connections — the collector sees a body cut off and
 *   stores nothing, the agent sees a network error;
 * - `loseResponse`: forward the whole request, wait for the collector's
 *   answer (it is only sent once the batch is durable), then cut both
 *   connections instead of forwarding it — the collector stored the batch,
 *   the agent never heard so, and must re-send it;
 * - nothing.
 *
 * Independently, any chunk in either direction may be delayed (order is
 * kept: later chunks wait behind a delayed one). Requests without a body
 * (health probes) are only ever delayed. A connection whose request uses
 * `Transfer-Encoding` (no `Content-Length`) is passed through untouched.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { seededRandom } from "../../shared/random.ts";

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
  seed: number;
  /** Chance that a chunk (either direction) is held back before it is forwarded. */
  delayChance: number;
  /** A held-back chunk waits a random time below this. */
  delayMaxMs: number;
  /** Chance that a POST request is cut off part-way through. */
  dropMidRequestChance: number;
  /** Chance that a POST request's response is lost after the collector answered. */
  loseResponseChance: number;
}

export interface FaultCounts {
  connections: number;
  requests: number;
  /** Chunks held back. */
  delays: number;
  /** Requests cut off part-way through (connection closed). */
  droppedMidRequest: number;
  /** Responses dropped after the collector answered 200 (batch stored, or acknowledged as a duplicate). */
  lostResponses: number;
  /** Responses dropped whose status was not 200 (e.g. 429): no batch was stored. */
  lostOtherResponses: number;
  /** Faults decided but not carried out because the connection ended first. */
  faultsNotCarriedOut: number;
}

type Fault = "none" | "dropMidRequest" | "loseResponse";

export const prng = seededRandom;

const HEAD_END = Buffer.from("\r\n\r\n");
const HEAD_BYTES_MAX = 64 * 1024;

export class FaultProxy {
  readonly counts: FaultCounts = { connections: 0, requests: 0, delays: 0, droppedMidRequest: 0, lostResponses: 0, lostOtherResponses: 0, faultsNotCarriedOut: 0 };
  /** When false, everything is passed through untouched (e.g. while the test waits for the backlog to drain). */
  enabled = true;
  private readonly options: FaultProxyOptions;
  private readonly random: () => number;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(options: FaultProxyOptions) {
    this.options = options;
    this.random = prng(options.seed);
    this.server = createServer((client) => this.connection(client));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once("error", reject);
      proxy.server.listen(0, "127.0.0.1", () => resolve());
    });
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private connection(client: Socket): void {
    this.counts.connections++;
    const upstream = connect(this.options.targetPort, this.options.targetHost);
    this.track(client);
    this.track(upstream);
    let cut = false;
    const cutBoth = (): void => {
      cut = true;
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cutBoth);
    upstream.on("error", cutBoth);
    client.on("close", cutBoth);
    upstream.on("close", cutBoth);

    // Forwarding with optional delays; each direction keeps its order.
    let toUpstream: Promise<void> = Promise.resolve();
    let toClient: Promise<void> = Promise.resolve();
    const forward = (chain: Promise<void>, destination: Socket, chunk: Buffer, after?: () => void): Promise<void> => {
      const delayMs = this.enabled && this.random() < this.options.delayChance ? Math.floor(this.random() * this.options.delayMaxMs) : 0;
      if (delayMs > 0) this.counts.delays++;
      return chain.then(async () => {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (cut || destination.destroyed) return;
        destination.write(chunk);
        after?.();
      });
    };

    // Request parsing state (client → upstream).
    let head: Buffer | null = Buffer.alloc(0); // null: inside a body
    let bodyLeft = 0;
    let passThrough = false;
    let fault: Fault = "none";
    /** dropMidRequest: bytes of this request still to forward before the cut. */
    let cutAfter = 0;
    /** loseResponse: the whole request was forwarded; the next upstream bytes are its answer. */
    let awaitingLostResponse = false;
    /** The request was cut: whatever else the client sends on this connection is dropped. */
    let ignoreRest = false;

    const startRequest = (requestHead: Buffer): void => {
      this.counts.requests++;
      const text = requestHead.toString("latin1");
      const method = text.slice(0, text.indexOf(" "));
      const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (/\r\ntransfer-encoding:/i.test(text) || (method === "POST" && lengthMatch === null)) {
        passThrough = true;
        return;
      }
      bodyLeft = lengthMatch === null ? 0 : Number(lengthMatch[1]);
      fault = "none";
      if (!this.enabled || method !== "POST" || bodyLeft === 0) return;
      const roll = this.random();
      if (roll < this.options.dropMidRequestChance) {
        fault = "dropMidRequest";
        // Cut somewhere in the head or the body, never after the last byte.
        cutAfter = 1 + Math.floor(this.random() * (requestHead.length + bodyLeft - 1));
      } else if (roll < this.options.dropMidRequestChance + this.options.loseResponseChance) {
        fault = "loseResponse";
      }
    };

    /** Forward request bytes (head or body) of the current request, applying dropMidRequest. */
    const forwardRequestBytes = (bytes: Buffer, endsRequest: boolean): void => {
      if (fault === "dropMidRequest") {
        if (bytes.length < cutAfter) {
          cutAfter -= bytes.length;
          toUpstream = forward(toUpstream, upstream, bytes);
          return;
        }
        const part = bytes.subarray(0, cutAfter);
        toUpstream = forward(toUpstream, upstream, part, () => {
          this.counts.droppedMidRequest++;
          // Let the partial bytes reach the collector before the connection dies.
          setTimeout(cutBoth, 20);
        });
        fault = "none";
        ignoreRest = true;
        return;
      }
      if (fault === "loseResponse" && endsRequest) {
        toUpstream = forward(toUpstream, upstream, bytes, () => (awaitingLostResponse = true));
        return;
      }
      toUpstream = forward(toUpstream, upstream, bytes);
    };
    client.on("data", (chunk: Buffer) => {
      if (ignoreRest) return;
      if (passThrough) {
        toUpstream = forward(toUpstream, upstream, chunk);
        return;
      }
      let rest = chunk;
      while (rest.length > 0 && !passThrough && !ignoreRest) {
        if (head !== null) {
          const joined = head.length === 0 ? rest : Buffer.concat([head, rest]);
          const end = joined.indexOf(HEAD_END);
          if (end === -1) {
            if (joined.length > HEAD_BYTES_MAX) {
              passThrough = true;
              toUpstream = forward(toUpstream, upstream, joined);
              return;
            }
            head = joined;
            return;
          }
          const requestHead = joined.subarray(0, end + HEAD_END.length);
          rest = joined.subarray(end + HEAD_END.length);
          head = null;
          startRequest(requestHead);
          if (passThrough) {
            toUpstream = forward(toUpstream, upstream, Buffer.concat([requestHead, rest]));
            return;
          }
          forwardRequestBytes(requestHead, bodyLeft === 0);
          if (bodyLeft === 0) head = Buffer.alloc(0);
          continue;
        }
        const take = Math.min(bodyLeft, rest.length);
        const bytes = rest.subarray(0, take);
        rest = rest.subarray(take);
        bodyLeft -= take;
        forwardRequestBytes(bytes, bodyLeft === 0);
        if (bodyLeft === 0) head = Buffer.alloc(0);
      }
    });

    upstream.on("data", (chunk: Buffer) => {
      if (awaitingLostResponse) {
        awaitingLostResponse = false;
        fault = "none";
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString("latin1", 0, 16))?.[1];
        if (status === "200") this.counts.lostResponses++;
        else this.counts.lostOtherResponses++;
        cutBoth();
        return;
      }
      toClient = forward(toClient, client, chunk);
    });

    client.once("close", () => {
      if (fault !== "none" || awaitingLostResponse) this.counts.faultsNotCarriedOut++;
    });
  }
}
