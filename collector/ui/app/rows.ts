/**
 * One event as a row of the results or of the live tail: time, host,
 * source and the message with the query's terms marked. Clicking the row
 * (or Enter / Space on it) expands every field of the event, each with
 * "filter for" and "filter out" buttons, and a "show context" button.
 */
import type { Event } from "../../../shared/event.ts";
import { h } from "./dom.ts";
import type { Highlighter } from "./highlight.ts";
import { formatTime } from "./state.ts";

export interface RowActions {
  filter(field: string, value: string, negate: boolean): void;
  context(event: Event): void;
}

export function eventRow(event: Event, highlight: Highlighter, actions: RowActions): HTMLLIElement {
  const message = h("span", { class: "event-message" });
  for (const segment of highlight(event.message)) message.append(segment.hit ? h("mark", {}, segment.text) : segment.text);
  const line = h(
    "div",
    { class: "event-line", tabindex: "0", role: "button", "aria-expanded": "false" },
    h("time", { class: "event-time", datetime: event.time }, formatTime(Date.parse(event.time))),
    h("span", { class: "event-host" }, event.host),
    h("span", { class: "event-source" }, event.source),
    message,
  );
  const row = h("li", { class: "event" }, line);
  const toggle = (): void => {
    const open = line.getAttribute("aria-expanded") === "true";
    line.setAttribute("aria-expanded", String(!open));
    if (open) row.querySelector(".event-details")?.remove();
    else row.append(details(event, actions));
  };
  line.addEventListener("click", toggle);
  line.addEventListener("keydown", (keyboard) => {
    if (keyboard.key !== "Enter" && keyboard.key !== " ") return;
    keyboard.preventDefault();
    toggle();
  });
  return row;
}

/** Every field of the event as [query name, value text, filterable]. */
export function eventFields(event: Event): [string, string, boolean][] {
  const fields: [string, string, boolean][] = [
    ["time", event.time, true],
    ["host", event.host, true],
    ["source", event.source, true],
    ["path", event.path, true],
    ["offset", String(event.offset), true],
    ["message", event.message, true],
    ["observed_time", event.observed_time, true],
    ["id", event.id, true],
  ];
  if (event.truncated === true) fields.push(["truncated", "true", true]);
  flatten(event.fields, "fields.", fields);
  return fields;
}

function flatten(object: Record<string, unknown>, prefix: string, into: [string, string, boolean][]): void {
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) flatten(value as Record<string, unknown>, `${prefix}${key}.`, into);
    else if (typeof value === "string") into.push([prefix + key, value, true]);
    else into.push([prefix + key, JSON.stringify(value), typeof value === "number" || typeof value === "boolean"]);
  }
}

function details(event: Event, actions: RowActions): HTMLElement {
  const rows = eventFields(event).map(([field, value, filterable]) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, field),
      h("td", { class: "field-value" }, value),
      h(
        "td",
        { class: "field-actions" },
        filterable && button("+", `Filter for ${field}: ${value}`, () => actions.filter(field, value, false)),
        filterable && button("−", `Filter out ${field}: ${value}`, () => actions.filter(field, value, true)),
      ),
    ),
  );
  return h("div", { class: "event-details" }, h("table", {}, h("tbody", {}, ...rows)), button("Show context", "Show the lines around this event in its file", () => actions.context(event), "context-button"));
}

function button(text: string, label: string, action: () => void, className = "field-button"): HTMLButtonElement {
  const element = h("button", { type: "button", class: className, "aria-label": label, title: label }, text);
  element.addEventListener("click", action);
  return element;
}
