/**
 * A query error shown where it is: the reason, then the query with a caret
 * under the column (1-based, in code points, as QueryError and the API's
 * `column` count), like the CLI's renderQueryError.
 */
import { h } from "./dom.ts";

export function renderQueryError(target: HTMLElement, query: string, column: number, reason: string): void {
  const codePoints = Array.from(query);
  const before = codePoints.slice(0, column - 1).join("");
  const at = codePoints[column - 1] ?? " ";
  const after = codePoints.slice(column).join("");
  target.replaceChildren(
    h("span", { class: "error-reason" }, `Column ${column}: ${reason}`),
    h("code", { class: "error-query" }, before, h("mark", { class: "error-at" }, at), after),
  );
  target.hidden = false;
}

export function clearQueryError(target: HTMLElement): void {
  target.replaceChildren();
  target.hidden = true;
}
