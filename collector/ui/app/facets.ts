/**
 * The facet sidebar (`GET /v1/facets`): for host, source, path and the
 * common fields, the most frequent values among the query's newest matches
 * with their counts. Clicking a value filters for it; the "−" beside it
 * filters it out.
 */
import type { Facets } from "./api.ts";
import { h } from "./dom.ts";

export function renderFacets(container: HTMLElement, facets: Facets, filter: (field: string, value: string, negate: boolean) => void): void {
  const groups = facets.facets
    .filter((facet) => facet.values.length > 0)
    .map((facet) => {
      const items = facet.values.map(({ value, count }) => {
        const forButton = h("button", { type: "button", class: "facet-value", title: `Filter for ${facet.field}: ${value}` }, h("span", { class: "facet-text" }, value === "" ? "(empty)" : value), h("span", { class: "facet-count" }, count.toLocaleString("en")));
        forButton.addEventListener("click", () => filter(facet.field, value, false));
        const outButton = h("button", { type: "button", class: "facet-out", "aria-label": `Filter out ${facet.field}: ${value}`, title: `Filter out ${facet.field}: ${value}` }, "−");
        outButton.addEventListener("click", () => filter(facet.field, value, true));
        return h("li", {}, forButton, outButton);
      });
      const share = facets.events === 0 ? 0 : Math.round((facet.events / facets.events) * 100);
      return h("section", { class: "facet", "data-field": facet.field }, h("h3", {}, facet.field, h("span", { class: "facet-share", title: "share of the counted events that have this field" }, `${share}%`)), h("ul", {}, ...items));
    });
  const note = facets.complete ? `Counted over all ${facets.events.toLocaleString("en")} matches.` : `Counted over the newest ${facets.events.toLocaleString("en")} matches.`;
  container.replaceChildren(h("p", { class: "facets-note" }, note), ...groups);
}
