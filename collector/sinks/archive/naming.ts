/**
 * Archive file names (docs/ARCHIVE.md, "Naming"):
 *
 *   <tenant>-<first offset>-<last offset>.<extension>   committed: holds every event of
 *                                                       the tenant in this partition whose
 *                                                       log offset is in [first, last]
 *   .inprogress-<tenant>-<first offset>-<nonce>         being written; hidden (a leading
 *                                                       "."), no format extension, so Spark,
 *                                                       Hive and DuckDB globs never read it
 *
 * Offsets are decimal, unpadded. Tenant names may contain "-" (letters,
 * digits, "_", "." and "-"): the two offsets are parsed from the end.
 */

export const IN_PROGRESS_PREFIX = ".inprogress-";

export function committedFileName(tenant: string, firstOffset: number, lastOffset: number, extension: string): string {
  return `${tenant}-${firstOffset}-${lastOffset}.${extension}`;
}

export function inProgressFileName(tenant: string, firstOffset: number, nonce: string): string {
  return `${IN_PROGRESS_PREFIX}${tenant}-${firstOffset}-${nonce}`;
}

export interface CommittedFile {
  tenant: string;
  firstOffset: number;
  lastOffset: number;
}

/** The tenant and range a committed file's name carries; null for any other name. */
export function parseCommittedFileName(name: string, extension: string): CommittedFile | null {
  const suffix = `.${extension}`;
  if (!name.endsWith(suffix) || name.startsWith(".")) return null;
  const match = /^(.+)-(\d+)-(\d+)$/.exec(name.slice(0, -suffix.length));
  if (match === null) return null;
  const firstOffset = Number(match[2]);
  const lastOffset = Number(match[3]);
  if (!Number.isSafeInteger(firstOffset) || !Number.isSafeInteger(lastOffset) || firstOffset > lastOffset) return null;
  return { tenant: match[1] ?? "", firstOffset, lastOffset };
}
