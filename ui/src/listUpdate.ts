/**
 * A keyed update of a list of rows: rows whose item is still there are kept
 * (and asked to show it, which costs nothing when nothing shown changed), new
 * items get new rows, gone items lose theirs, and the order is the items'.
 * A busy row (an open rename, a pending confirmation) is left as it is, even
 * when its item is gone: a background refresh never throws away what the
 * person is doing.
 */

/** A row the keyed update can keep, update or drop. */
export interface KeyedRow<T> {
  /** The item's key (a passkey's id). */
  readonly key: string;
  /** True while the row must not change. */
  readonly busy: boolean;
  /** Takes the item's new state; returns true when what the row shows changed. */
  update: (item: T) => boolean;
}

/** What a keyed update did. */
export interface KeyedUpdate<R> {
  /** The rows in their new order. */
  rows: R[];
  /** Rows made for new items. */
  created: R[];
  /** Kept rows that now show something else. */
  changed: R[];
  /** Rows of items that are gone. */
  removed: R[];
}

/** Matches `rows` to `items` by key (the first of duplicate keys wins). */
export function updateKeyed<T, R extends KeyedRow<T>>(
  rows: readonly R[],
  items: readonly T[],
  keyOf: (item: T) => string,
  create: (item: T) => R,
): KeyedUpdate<R> {
  const byKey = new Map<string, R>();
  for (const row of rows) if (!byKey.has(row.key)) byKey.set(row.key, row);
  const next: R[] = [];
  const created: R[] = [];
  const changed: R[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    if (seen.has(key)) continue;
    seen.add(key);
    const row = byKey.get(key);
    if (row === undefined) {
      const made = create(item);
      created.push(made);
      next.push(made);
    } else {
      if (!row.busy && row.update(item)) changed.push(row);
      next.push(row);
    }
  }
  const removed: R[] = [];
  rows.forEach((row, index) => {
    if (seen.has(row.key) && byKey.get(row.key) === row) return;
    if (row.busy) {
      next.splice(Math.min(index, next.length), 0, row);
    } else {
      removed.push(row);
    }
  });
  return { rows: next, created, changed, removed };
}
