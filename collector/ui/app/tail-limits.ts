/**
 * The live tail's limits (tail.ts, docs/UI.md "Limits"), in a module of
 * their own without the DOM so that the tests running in Node can read them.
 */

/** Rows shown, and events waiting while paused, at most. */
export const TAIL_ROWS_MAX = 500;
/** Rows put on the page per animation frame at most (2,000 lines/s is ~35 a frame, a batch of the agent's can be a few hundred); the rest wait for the next frames. */
export const TAIL_ROWS_PER_FRAME_MAX = 200;
/** A broken stream is reopened after this, doubling per failure up to TAIL_RECONNECT_MS_MAX. */
export const TAIL_RECONNECT_MS_FIRST = 250;
export const TAIL_RECONNECT_MS_MAX = 5000;
