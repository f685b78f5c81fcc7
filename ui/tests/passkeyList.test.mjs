// Unit tests of the list refresh's logic: the icon cache and the keyed update
// of the rows (run `npm test`; compiled modules, no DOM).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";

// The compiled modules: one per source under build/modules/ (esbuild), else dist/ (tsc).
const modules = existsSync(new URL("../build/modules/icons.js", import.meta.url)) ? "../build/modules" : "../dist";
const { GENERIC_ICON, IconCache, iconSources, MAX_ICONS } = await import(`${modules}/icons.js`);
const { updateKeyed } = await import(`${modules}/listUpdate.js`);

const SVG = "data:image/svg+xml;base64,PHN2Zy8+";
const PNG = "data:image/png;base64,iVBORw0KGgo=";

test("the icon cache keeps inline images by key and names them for the next call", () => {
  const cache = new IconCache();
  assert.deepEqual(cache.keys(), []);
  cache.add({
    "fbfc3007-154e-4ecc-8c0b-6e020557d7bd": { light: SVG, dark: PNG },
    "icon-0011223344556677": { light: SVG, dark: null },
    remote: { light: "https://tracker.example/i.png", dark: null },
    script: { light: "javascript:alert(1)", dark: "data:text/html,<b>x</b>" },
    __proto__: { light: SVG, dark: null },
  });
  assert.deepEqual(cache.keys().sort(), ["fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "icon-0011223344556677"]);
  assert.deepEqual(cache.get("icon-0011223344556677"), { light: SVG, dark: null });
  assert.equal(cache.get("remote"), undefined, "a remote icon is not kept");
  assert.equal(cache.get("script"), undefined);
  assert.equal(cache.get("toString"), undefined);

  // A later answer adds its new icons to those held.
  cache.add({ other: { light: null, dark: PNG } });
  assert.equal(cache.size, 3);
});

test("the icon cache starts again past its limit", () => {
  const cache = new IconCache();
  const many = (prefix, count) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, { light: SVG, dark: null }]));
  cache.add(many("a", MAX_ICONS - 1));
  assert.equal(cache.size, MAX_ICONS - 1);
  cache.add(many("b", 2));
  assert.deepEqual(cache.keys(), ["b0", "b1"]);
  cache.add(many("c", MAX_ICONS + 5));
  assert.equal(cache.size, MAX_ICONS);
});

test("a row's image sources: the provider's icon, dark falling back to light, else the generic key", () => {
  const cache = new IconCache();
  cache.add({ both: { light: SVG, dark: PNG }, light: { light: SVG, dark: null }, dark: { light: null, dark: PNG } });
  assert.deepEqual(iconSources("both", cache), { light: SVG, dark: PNG });
  assert.deepEqual(iconSources("light", cache), { light: SVG, dark: SVG });
  assert.deepEqual(iconSources("dark", cache), { light: PNG, dark: PNG });
  assert.deepEqual(iconSources("not received", cache), GENERIC_ICON);
  assert.deepEqual(iconSources(null, cache), GENERIC_ICON);
});

/** A row as `updateKeyed` sees it: records what it was asked. */
class FakeRow {
  constructor(item) {
    this.key = item.id;
    this.shown = item.name;
    this.busy = false;
    this.updates = 0;
  }

  update(item) {
    if (this.busy) throw new Error("a busy row was updated");
    this.updates += 1;
    const changed = item.name !== this.shown;
    this.shown = item.name;
    return changed;
  }
}

const items = (...entries) => entries.map((entry) => ({ id: entry.split(":")[0], name: entry.slice(entry.indexOf(":") + 1) }));
const keyOf = (item) => item.id;
const create = (item) => new FakeRow(item);
const shown = (rows) => rows.map((row) => row.shown);

test("an unchanged list keeps every row and changes none", () => {
  const first = updateKeyed([], items("a:A", "b:B", "c:C"), keyOf, create);
  assert.equal(first.created.length, 3);
  const again = updateKeyed(first.rows, items("a:A", "b:B", "c:C"), keyOf, create);
  assert.deepEqual(again.rows, first.rows, "the same row objects, in the same order");
  assert.deepEqual([again.created, again.changed, again.removed], [[], [], []]);
});

test("new rows are added, gone ones removed, changed ones updated, in the list's order", () => {
  const { rows } = updateKeyed([], items("a:A", "b:B", "c:C", "d:D"), keyOf, create);
  const [a, b, c, d] = rows;
  const update = updateKeyed(rows, items("d:D", "e:E", "b:B renamed", "a:A"), keyOf, create);
  assert.deepEqual(shown(update.rows), ["D", "E", "B renamed", "A"]);
  assert.deepEqual(update.rows.filter((row) => rows.includes(row)), [d, b, a], "kept rows are the same objects");
  assert.deepEqual(shown(update.created), ["E"]);
  assert.deepEqual(update.changed, [b]);
  assert.deepEqual(update.removed, [c]);
  assert.equal(a.updates, 1, "an unchanged row is asked, and says nothing changed");
});

test("a busy row is neither updated nor removed, and keeps its place", () => {
  const { rows } = updateKeyed([], items("a:A", "b:B", "c:C"), keyOf, create);
  const [a, b, c] = rows;
  b.busy = true;
  // Given b is being renamed while it was renamed elsewhere
  let update = updateKeyed(rows, items("a:A", "b:B elsewhere", "c:C"), keyOf, create);
  // Then b still shows what the person is editing
  assert.deepEqual(update.rows, [a, b, c]);
  assert.deepEqual(shown(update.rows), ["A", "B", "C"]);
  assert.deepEqual(update.changed, []);
  // Given b was removed elsewhere while its removal is being confirmed
  update = updateKeyed(rows, items("a:A", "c:C", "d:D"), keyOf, create);
  // Then it stays where it was until it is no longer busy
  assert.deepEqual(shown(update.rows), ["A", "B", "C", "D"]);
  assert.deepEqual(update.removed, []);
  b.busy = false;
  update = updateKeyed(update.rows, items("a:A", "c:C", "d:D"), keyOf, create);
  assert.deepEqual(update.removed, [b]);
  assert.deepEqual(shown(update.rows), ["A", "C", "D"]);
});

test("an emptied list removes every row; duplicate ids get one row", () => {
  const { rows } = updateKeyed([], items("a:A", "a:A again", "b:B"), keyOf, create);
  assert.deepEqual(shown(rows), ["A", "B"]);
  const update = updateKeyed(rows, [], keyOf, create);
  assert.deepEqual(update.rows, []);
  assert.deepEqual(update.removed, rows);
});
