/**
 * Exponential backoff with full jitter (AWS architecture blog): the n-th
 * retry waits a random time in [0, min(cap, base · 2^n)). Spreads retries of
 * many agents after a collector outage instead of synchronising them.
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` in seconds or as an HTTP date → milliseconds from now (undefined when absent or unreadable). */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
