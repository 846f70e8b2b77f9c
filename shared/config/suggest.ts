/**
 * "Did you mean" for unknown config keys: the valid key nearest by edit
 * distance (optimal string alignment: insert, delete, substitute, swap two
 * neighbours), compared case-insensitively with `-` read as `_`. Nothing is
 * suggested when no key is close enough to be a plausible typo.
 */

/** The nearest of `candidates` to `key`, or undefined when none is close. */
export function suggestKey(key: string, candidates: readonly string[]): string | undefined {
  const wanted = normalize(key);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const normalized = normalize(candidate);
    if (normalized.replaceAll("_", "") === wanted.replaceAll("_", "")) return candidate;
    const distance = editDistance(wanted, normalized);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= allowedDistance(key.length) ? best : undefined;
}

function normalize(key: string): string {
  return key.toLowerCase().replaceAll("-", "_");
}

function allowedDistance(length: number): number {
  if (length <= 3) return 1;
  if (length <= 8) return 2;
  return 3;
}

/** Optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table: number[] = new Array<number>(rows * columns).fill(0);
  const cell = (row: number, column: number): number => table[row * columns + column] ?? 0;
  for (let row = 0; row < rows; row++) table[row * columns] = row;
  for (let column = 0; column < columns; column++) table[column] = column;
  for (let row = 1; row < rows; row++) {
    for (let column = 1; column < columns; column++) {
      const cost = a[row - 1] === b[column - 1] ? 0 : 1;
      let distance = Math.min(cell(row - 1, column) + 1, cell(row, column - 1) + 1, cell(row - 1, column - 1) + cost);
      if (row > 1 && column > 1 && a[row - 1] === b[column - 2] && a[row - 2] === b[column - 1]) {
        distance = Math.min(distance, cell(row - 2, column - 2) + 1);
      }
      table[row * columns + column] = distance;
    }
  }
  return cell(a.length, b.length);
}
