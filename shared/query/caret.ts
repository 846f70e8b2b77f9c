/**
 * A QueryError for a terminal: the message, the query on one line and a `^`
 * under the column. Tabs in the query are kept in the caret line so the
 * caret lines up; other whitespace (newlines) prints as spaces.
 */
import type { QueryError } from "../errors.ts";

export function renderQueryError(error: QueryError, indent = "  "): string {
  return `${error.message}\n${caretLines(error.query, error.column, indent)}`;
}

/** Two lines: the query and a caret under 1-based `column` (code points). */
export function caretLines(query: string, column: number, indent = "  "): string {
  const characters = Array.from(query, (char) => (char !== "\t" && /\s/u.test(char) ? " " : char));
  let padding = "";
  for (let index = 0; index < column - 1; index++) padding += characters[index] === "\t" ? "\t" : " ";
  return `${indent}${characters.join("")}\n${indent}${padding}^`;
}
