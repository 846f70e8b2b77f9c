/**
 * The archive as a reader sees it: DuckDB (@duckdb/node-api) reads the
 * committed files under a root with Hive partitioning, as an operator would
 * (`read_parquet('<root>/**\/*.parquet', hive_partitioning = true)` or
 * `read_json('<root>/**\/*.ndjson.zst', …)`), and checks every line of the
 * archive acceptance tests: lines `ts=<RFC 3339> file=<name> seq=<n> …`
 * written by archiveLine() and parsed by the agent's logfmt parser.
 */
import { DuckDBInstance } from "@duckdb/node-api";

export type ArchiveFileFormat = "parquet" | "ndjson";

/** What DuckDB finds under the root. Every count but `rows` and `files` is 0 when the archive is right. */
export interface ArchiveReport {
  /** Committed files the glob matched. */
  files: number;
  /** Files the glob matched with a hidden (in-progress) name: readers must never see one. */
  hiddenFiles: number;
  rows: number;
  /** Lines not among the expected ones (a wrong file name or a seq past the file's count). */
  unexpected: number;
  /** Lines present more than once (each extra copy counts). */
  duplicates: number;
  /** Expected lines absent. */
  missing: number;
  /** Rows whose `tenant`, `dt` or `hour` partition column disagrees with the row's tenant and time. */
  wrongPartition: number;
  /** Rows whose `time` is not the `ts` of their own line. */
  wrongTime: number;
}

/** One line of the acceptance tests: its event time first (the agent's logfmt parser reads `ts`). */
export function archiveLine(timeMs: number, name: string, seq: number, padding: string): string {
  return `ts=${new Date(timeMs).toISOString()} file=${name} seq=${seq} ${padding}\n`;
}

function source(root: string, format: ArchiveFileFormat): string {
  const quoted = root.replaceAll("'", "''");
  return format === "parquet"
    ? `read_parquet('${quoted}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, filename = true)`
    : `read_json('${quoted}/**/*.ndjson.zst', format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false, filename = true, columns = {tenant: 'VARCHAR', id: 'VARCHAR', time: 'TIMESTAMPTZ', message: 'VARCHAR'})`;
}

/** Reads every committed file of `format` under `root` and checks it against `counts` (lines per file name) and `tenants` (each file name's tenant; `default` for a name not there). */
export async function readArchive(root: string, format: ArchiveFileFormat, counts: Record<string, number>, tenants: Record<string, string> = {}): Promise<ArchiveReport> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const expected = Object.entries(counts)
      .map(([name, count]) => `('${name}', ${count}, '${tenants[name] ?? "default"}')`)
      .join(", ");
    const sql = `
      WITH rows AS (
        SELECT *, regexp_extract(message, '^ts=(\\S+) file=(\\S+) seq=(\\d+) ', ['ts', 'name', 'seq']) AS parts FROM ${source(root, format)}
      ),
      expected(name, count, tenant) AS (VALUES ${expected}),
      lines AS (
        SELECT parts.name AS name, TRY_CAST(parts.seq AS BIGINT) AS seq, count(*) AS copies FROM rows GROUP BY ALL
      )
      SELECT
        (SELECT count(DISTINCT filename) FROM rows) AS files,
        (SELECT count(DISTINCT filename) FROM rows WHERE regexp_matches(filename, '/\\.[^/]*$')) AS hidden_files,
        (SELECT count(*) FROM rows) AS row_count,
        (SELECT coalesce(sum(copies), 0) FROM lines LEFT JOIN expected USING (name) WHERE expected.count IS NULL OR lines.seq IS NULL OR lines.seq >= expected.count) AS unexpected,
        (SELECT coalesce(sum(copies - 1), 0) FROM lines) AS duplicates,
        (SELECT sum(count) FROM expected) - (SELECT count(*) FROM lines JOIN expected USING (name) WHERE lines.seq < expected.count) AS missing,
        (SELECT count(*) FROM rows LEFT JOIN expected ON expected.name = rows.parts.name WHERE rows.tenant IS DISTINCT FROM coalesce(expected.tenant, 'default')
           OR dt IS DISTINCT FROM strftime(time, '%Y-%m-%d') OR hour IS DISTINCT FROM strftime(time, '%H')) AS wrong_partition,
        (SELECT count(*) FROM rows WHERE time IS DISTINCT FROM CAST(parts.ts AS TIMESTAMPTZ)) AS wrong_time`;
    const [row] = (await connection.runAndReadAll(sql)).getRowObjectsJS();
    if (row === undefined) throw new Error("DuckDB returned no summary row");
    return {
      files: Number(row.files),
      hiddenFiles: Number(row.hidden_files),
      rows: Number(row.row_count),
      unexpected: Number(row.unexpected),
      duplicates: Number(row.duplicates),
      missing: Number(row.missing),
      wrongPartition: Number(row.wrong_partition),
      wrongTime: Number(row.wrong_time),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The file names DuckDB's glob matches for `format` under `root` (what a reader would open). */
export async function globArchive(root: string, format: ArchiveFileFormat): Promise<string[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const pattern = `${root.replaceAll("'", "''")}/**/*.${format === "parquet" ? "parquet" : "ndjson.zst"}`;
    return (await connection.runAndReadAll(`SELECT file FROM glob('${pattern}')`)).getRowObjectsJS().map((row) => String(row.file));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Reads every file the glob matches (a half-written one would fail the read) and returns the rows. */
export async function countArchiveRows(root: string, format: ArchiveFileFormat): Promise<number> {
  if ((await globArchive(root, format)).length === 0) return 0;
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const [row] = (await connection.runAndReadAll(`SELECT count(*) AS row_count FROM ${source(root, format)}`)).getRowObjectsJS();
    return Number(row?.row_count ?? 0);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
