/**
 * "Show context": the lines around an event in its file (`GET /v1/context`),
 * in a modal dialog, the event itself marked, like `grep -C`.
 */
import type { Event } from "../../../shared/event.ts";
import type { Api } from "./api.ts";
import { h } from "./dom.ts";
import { formatTime } from "./state.ts";

/** Lines asked for on each side. */
export const CONTEXT_LINES = 20;

export async function showContext(dialog: HTMLDialogElement, api: Api, event: Event): Promise<void> {
  const body = dialog.querySelector<HTMLElement>(".context-body");
  const title = dialog.querySelector<HTMLElement>(".context-title");
  if (body === null || title === null) throw new Error("the context dialog lacks .context-body or .context-title");
  title.textContent = `${event.host} ${event.path}`;
  body.replaceChildren(h("p", {}, "Loading…"));
  if (!dialog.open) dialog.showModal();
  try {
    const context = await api.context(event.id, CONTEXT_LINES);
    const line = (shown: Event, kind: string): HTMLLIElement => h("li", { class: `context-line ${kind}` }, h("time", { datetime: shown.time }, formatTime(Date.parse(shown.time))), h("span", { class: "context-offset" }, String(shown.offset)), h("span", {}, shown.message));
    const target = line(context.event, "context-match");
    body.replaceChildren(h("ol", { class: "context-lines" }, ...context.before.map((shown) => line(shown, "context-before")), target, ...context.after.map((shown) => line(shown, "context-after"))));
    target.scrollIntoView({ block: "center" });
  } catch (error) {
    body.replaceChildren(h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error)));
  }
}
