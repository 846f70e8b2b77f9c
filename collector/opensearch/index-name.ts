/**
 * The index an event goes to in OpenSearch: one per tenant per UTC day of
 * its `time`, named by a template (`sinks.search.index`, default
 * `logship-{tenant}-%Y.%m.%d`). `{tenant}` is the tenant lowercased
 * (OpenSearch index names are lowercase; the `tenant` keyword in every
 * document keeps tenants apart whatever the name), `%Y %m %d` the UTC date.
 *
 * The search backend reads a tenant's indices through the template with
 * every date part as `*` (`logship-default-*`), always filtered by the
 * `tenant` keyword, so a tenant whose name is a prefix of another's never
 * sees the other's events.
 */

export const INDEX_TEMPLATE_DEFAULT = "logship-{tenant}-%Y.%m.%d";
/** OpenSearch's own limit on index names, in bytes. */
const INDEX_NAME_BYTES_MAX = 255;
/** What a tenant may be (collector/log/format.ts) lowercased, and what the template may add. */
/** The date parts of a template and what separates them (`%Y.%m.%d`): one `*` in a pattern. */
const DATE_RUN = /%[Ymd](?:[._-]*%[Ymd])*/g;
const NAME_CHARACTERS = /^[a-z0-9_.{}%Y-]+$/;

/** Why `template` cannot name indices, or undefined when it can (pure: the config schema runs it). */
export function indexTemplateProblem(template: string): string | undefined {
  if (!NAME_CHARACTERS.test(template)) return `an index template may hold only lowercase letters, digits, "_", ".", "-", {tenant} and %Y %m %d; got ${JSON.stringify(template)}`;
  if (/^[-_.]/.test(template)) return `an index name cannot start with "-", "_" or "."; got ${JSON.stringify(template)}`;
  const unknown = template.replace(/\{tenant\}|%[Ymd]/g, "").match(/[{}%Y]/);
  if (unknown !== null) return `only {tenant}, %Y, %m and %d are replaced in an index template; got ${JSON.stringify(template)}`;
  if (!template.includes("{tenant}")) return `an index template needs {tenant} (each tenant's events in indices of their own); got ${JSON.stringify(template)}`;
  return undefined;
}

export class IndexNames {
  readonly template: string;

  constructor(template: string) {
    const problem = indexTemplateProblem(template);
    if (problem !== undefined) throw new RangeError(problem);
    this.template = template;
  }

  /** The index of `tenant`'s events of the UTC day of `timeMs`. */
  indexFor(tenant: string, timeMs: number): string {
    const date = new Date(timeMs);
    const name = this.template
      .replaceAll("{tenant}", tenant.toLowerCase())
      .replaceAll("%Y", String(date.getUTCFullYear()).padStart(4, "0"))
      .replaceAll("%m", String(date.getUTCMonth() + 1).padStart(2, "0"))
      .replaceAll("%d", String(date.getUTCDate()).padStart(2, "0"));
    if (Buffer.byteLength(name) > INDEX_NAME_BYTES_MAX) throw new RangeError(`index name ${name} is over ${INDEX_NAME_BYTES_MAX} bytes`);
    return name;
  }

  /** Every index of `tenant` (a wildcard pattern). */
  tenantPattern(tenant: string): string {
    return this.template.replaceAll("{tenant}", tenant.toLowerCase()).replace(DATE_RUN, "*");
  }

  /**
   * The `_search` path over every index of `tenant`: none needs to exist,
   * and a shard that cannot answer (an index being created, a node
   * recovering or gone) fails the whole request with OpenSearch's 503
   * rather than leaving its documents out of a 200. A search page, a
   * histogram or a tail poll taken from part of the shards would be
   * answered as complete; the tail would move its position past documents
   * it never saw.
   */
  tenantSearchPath(tenant: string): string {
    return `/${this.tenantPattern(tenant)}/_search?ignore_unavailable=true&allow_no_indices=true&allow_partial_search_results=false`;
  }

  /** Every index the template names, of any tenant (the index template's pattern). */
  allPattern(): string {
    return this.template.replace(DATE_RUN, "*").replaceAll("{tenant}", "*").replace(/\*+/g, "*");
  }
}
