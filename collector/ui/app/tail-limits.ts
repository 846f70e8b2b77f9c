/**
 * The live tail's limits (tail.ts, docs/UI.md "Limits"), in a module of
 * their own without the DOM so that the tests running in Node can read them.
 */

/** Rows shown, and events waiting (paused, or between updates), at most. */
export const TAIL_ROWS_MAX = 500;
/** The list is updated at most this often (10 times a second): the rows that came in meanwhile go in together. */
export const TAIL_FLUSH_INTERVAL_MS = 100;
/** Rows put on the page per update at most (2,500 a second: 2,000 lines/s is ~200 an update); the rest wait for the next update. */
export const TAIL_ROWS_PER_FLUSH_MAX = 250;
/** Rows per update at least, however slow updates are: the tail keeps moving (100 a second). */
export const TAIL_ROWS_PER_FLUSH_MIN = 10;
/** Rows per update given back after an update within TAIL_UPDATE_MS_TARGET. */
export const TAIL_ROWS_PER_FLUSH_STEP = 25;
/**
 * An update (its script, style, layout and paint, until the next frame)
 * should take no longer than this: a longer one halves the rows per
 * update. 50 ms is where a frame reads as a stall (a long task).
 */
export const TAIL_UPDATE_MS_TARGET = 50;
/** A broken stream is reopened after this, doubling per failure up to TAIL_RECONNECT_MS_MAX. */
export const TAIL_RECONNECT_MS_FIRST = 250;
export const TAIL_RECONNECT_MS_MAX = 5000;
