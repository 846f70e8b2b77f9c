/**
 * Reusable fixed-size buffers for the hot path (file reads, batch payloads).
 *
 * Why: a buffer's memory lives outside the JavaScript heap, and V8 collects
 * dead buffers only once tens of megabytes of them have piled up; at
 * hundreds of MB/s that garbage, not live data, set the agent's RSS. Reusing
 * a few buffers keeps the memory flat.
 *
 * Limit: at most `buffersMax` free buffers are kept; more are left to the
 * garbage collector. A request larger than `bufferBytes` gets a one-off
 * buffer. Releasing is optional (a buffer never released is collected as
 * usual) but must happen only once nothing reads the buffer any more.
 */
export class BufferPool {
  readonly bufferBytes: number;
  private readonly buffersMax: number;
  private readonly free: Buffer[] = [];
  private readonly owned = new WeakSet<Buffer>();
  private readonly outstanding = new WeakSet<Buffer>();

  constructor(bufferBytes: number, buffersMax: number) {
    this.bufferBytes = bufferBytes;
    this.buffersMax = buffersMax;
  }

  /** A buffer of at least `bytes` bytes (its content is not zeroed). */
  acquire(bytes: number): Buffer {
    if (bytes > this.bufferBytes) return Buffer.allocUnsafeSlow(bytes);
    const buffer = this.free.pop() ?? this.make();
    this.outstanding.add(buffer);
    return buffer;
  }

  release(buffer: Buffer): void {
    if (!this.owned.has(buffer)) return;
    if (!this.outstanding.delete(buffer)) throw new Error("assertion failed: buffer released twice");
    if (this.free.length < this.buffersMax) this.free.push(buffer);
  }

  private make(): Buffer {
    const buffer = Buffer.allocUnsafeSlow(this.bufferBytes);
    this.owned.add(buffer);
    return buffer;
  }
}
