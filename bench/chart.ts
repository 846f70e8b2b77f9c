/**
 * The chart of docs/BENCHMARKS.md (issue 8): throughput and memory of every
 * case, read back from the page's own tables, so a full run and an
 * `--only` run (which rewrites one section) both leave a chart of what the
 * page says. Two panels of horizontal bars in one SVG, no dependency:
 * MB/s of raw log (`mb_per_s`, `raw_mb_per_s`) and peak RSS in MiB (every
 * `*rss_mb` column).
 */

interface Bar {
  label: string;
  value: number;
}

/** Rows of every markdown table in `page`, as column → cell. */
export function pageRows(page: string): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  const lines = page.split("\n");
  for (let index = 0; index + 1 < lines.length; index++) {
    const header = lines[index] as string;
    if (!header.startsWith("| ") || !/^\| ---/.test(lines[index + 1] as string)) continue;
    const columns = cells(header);
    for (index += 2; index < lines.length && (lines[index] as string).startsWith("| "); index++) {
      const values = cells(lines[index] as string);
      rows.push(Object.fromEntries(columns.map((column, at) => [column, values[at] ?? ""])));
    }
  }
  return rows;
}

function cells(line: string): string[] {
  return line.slice(2, -2).split(" | ").map((cell) => cell.trim());
}

/** What tells one case of a bench from another, in a bar's label (after the row's first cell: the bench, client or parser). */
const LABEL_COLUMNS: Record<string, (value: string) => string> = {
  case: (value) => value,
  shipper: (value) => value,
  backend: (value) => value,
  clients: (value) => `${value} clients`,
  level: (value) => `level ${value}`,
  strategy: (value) => value,
  zstd_strategy: (value) => value,
  phase: (value) => value,
  writers: (value) => `${value} writers`,
  direction: (value) => value,
  round: (value) => `round ${value}`,
  agent_node_options: (value) => (value === "shipped" ? "" : value),
  transforms: (value) => (value === "none" ? "" : value),
  files: (value) => `${value} files`,
};

function label(row: Record<string, string>): string {
  const parts = [Object.values(row)[0] ?? ""];
  for (const [column, show] of Object.entries(LABEL_COLUMNS)) {
    const value = row[column];
    if (value !== undefined && value !== "" && value !== parts[0]) parts.push(show(value));
  }
  return parts.filter((part) => part !== "").join(" ");
}

/** The bars of both panels from the page's rows. */
export function chartBars(rows: readonly Record<string, string>[]): { throughput: Bar[]; memory: Bar[] } {
  const throughput: Bar[] = [];
  const memory: Bar[] = [];
  for (const row of rows) {
    const mbPerS = Number(row["mb_per_s"] || row["raw_mb_per_s"] || Number.NaN);
    if (Number.isFinite(mbPerS)) throughput.push({ label: label(row), value: mbPerS });
    for (const [column, cell] of Object.entries(row)) {
      if (!column.endsWith("rss_mb") || column.startsWith("limit") || column.startsWith("target") || cell === "") continue;
      const mib = Number(cell);
      if (Number.isFinite(mib)) memory.push({ label: `${label(row)} — ${column.replace(/_rss_mb$/, "").replace(/_/g, " ") || "rss"}`, value: mib });
    }
  }
  return { throughput, memory };
}

const ROW = 18;
const LABEL_WIDTH = 430;
const BAR_WIDTH = 420;

function panel(title: string, unit: string, bars: readonly Bar[], top: number): { svg: string; height: number } {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  let svg = `<text x="10" y="${top + 16}" class="title">${escape(title)}</text>\n`;
  bars.forEach((bar, index) => {
    const y = top + 28 + index * ROW;
    const width = Math.max(1, Math.round((bar.value / max) * BAR_WIDTH));
    svg += `<text x="${LABEL_WIDTH - 6}" y="${y + 12}" class="label">${escape(bar.label)}</text>`;
    svg += `<rect x="${LABEL_WIDTH}" y="${y + 2}" width="${width}" height="${ROW - 5}" class="bar"/>`;
    svg += `<text x="${LABEL_WIDTH + width + 4}" y="${y + 12}" class="value">${bar.value.toFixed(bar.value >= 100 ? 0 : 1)} ${unit}</text>\n`;
  });
  return { svg, height: 36 + bars.length * ROW };
}

/** The SVG of the page's results. */
export function renderChart(page: string): string {
  const { throughput, memory } = chartBars(pageRows(page));
  const first = panel("Throughput (MB/s of raw log)", "MB/s", throughput, 0);
  const second = panel("Memory (peak RSS, MiB)", "MiB", memory, first.height + 10);
  const height = first.height + second.height + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL_WIDTH + BAR_WIDTH + 90}" height="${height}" font-family="sans-serif" font-size="11">
<style>.title{font-weight:bold;font-size:13px}.label{text-anchor:end}.bar{fill:#4a7bb7}.value{fill:#333}</style>
<rect width="100%" height="100%" fill="white"/>
${first.svg}${second.svg}</svg>
`;
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
