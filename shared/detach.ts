/**
 * Freeing a buffer's memory now instead of at the garbage collector's next
 * full collection.
 *
 * A buffer's bytes live outside V8's heap, and are freed only when the
 * collector finds its (small) JavaScript object dead. A buffer that lived
 * through two scavenges is promoted, and promoted objects die only at a
 * full collection, which V8 starts when its old generation fills with
 * objects, whatever the buffers weigh: in the agent, dead batch buffers
 * piled up by tens of megabytes between two (docs/ARCHITECTURE.md, Node
 * runtime options per role). Transferring an ArrayBuffer to a zero-length
 * one (`ArrayBuffer.prototype.transfer`, ES2024) detaches it and frees its
 * memory at once.
 *
 * Only for memory nothing reads or writes any more, nor will: a detached
 * buffer reads as empty, and native code (a socket write in progress)
 * holding its address would touch freed memory. Never for a buffer handed
 * to an HTTP client or a stream.
 */

/** Frees `buffer`'s memory now; it reads as empty afterwards. */
export function detach(buffer: ArrayBuffer): void {
  (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}

/**
 * Frees the memory of a Buffer that is the whole of its ArrayBuffer; does
 * nothing for a slice of a larger one (Node's shared pool of small buffers,
 * a subarray), whose other bytes may be in use. Returns whether it freed.
 */
export function freeBuffer(buffer: Buffer): boolean {
  const whole = buffer.buffer;
  if (!(whole instanceof ArrayBuffer) || buffer.byteOffset !== 0 || buffer.byteLength !== whole.byteLength || whole.byteLength === 0) return false;
  detach(whole);
  return true;
}
