/**
 * Event times to ms for the index's write path, with the answer of
 * shared/query `parseTime` and a shortcut for the form every event time is
 * written in (formatTime: `YYYY-MM-DDTHH:MM:SS.mmmZ`). A batch holds runs
 * of events of the same second, so a reader remembers the last second it
 * parsed and adds the milliseconds; anything else goes to `parseTime`.
 * Parsing each time in full was about a tenth of the index's write CPU.
 */
import { parseTime } from "../../shared/query/values.ts";

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`: the length, and where the second ends. */
const CANONICAL_LENGTH = 24;
const SECOND_END = 19;
const DOT = 46;
const LETTER_Z = 90;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** One reader per sequence of times (an event's `time` and its `observed_time` each have their own). */
export class EventTimeReader {
  private second = "";
  private secondMs: number | undefined;

  /** Milliseconds since the epoch, or undefined when `text` is not a time (parseTime). */
  ms(text: string): number | undefined {
    if (text.length !== CANONICAL_LENGTH || text.charCodeAt(SECOND_END) !== DOT || text.charCodeAt(CANONICAL_LENGTH - 1) !== LETTER_Z) return parseTime(text);
    const millis = digit(text, SECOND_END + 1) * 100 + digit(text, SECOND_END + 2) * 10 + digit(text, SECOND_END + 3);
    if (Number.isNaN(millis)) return parseTime(text);
    const second = text.slice(0, SECOND_END);
    if (second !== this.second) {
      this.second = second;
      this.secondMs = parseTime(`${second}Z`);
    }
    return this.secondMs === undefined ? undefined : this.secondMs + millis;
  }
}

/** The decimal digit at `index`, or NaN. */
function digit(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code >= DIGIT_0 && code <= DIGIT_9 ? code - DIGIT_0 : Number.NaN;
}
