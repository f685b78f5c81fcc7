// Builds the window's front end.
//
//   node scripts/build.mjs          # dist/: what the app embeds
//   node scripts/build.mjs --tests  # build/modules/: one module per source, for `npm test`
//
// dist/ holds index.html, the CSS, the images and main.js: every module of
// src/ bundled into one minified ES module, so the page fetches one script
// (eleven modules fetched in waves as their imports were discovered cost
// ~40 ms of the cold start, see docs/benchmarks.md). Next to it, api.js,
// passkeyRow.js and format.js are standalone bundles of those modules that
// the page never loads: the benchmark imports them into the window to time
// the parts of a list refresh (bench/measure, `UI_BREAKDOWN`).
//
// Type checking is `tsc --noEmit` (`npm run lint`); esbuild only strips types.
import { build } from "esbuild";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(ui, "src");
const common = { format: "esm", target: "es2022", charset: "utf8", logLevel: "warning" };

if (process.argv.includes("--tests")) {
  const out = join(ui, "build", "modules");
  rmSync(out, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: readdirSync(src).filter((name) => name.endsWith(".ts")).map((name) => join(src, name)),
    outdir: out,
  });
} else {
  const out = join(ui, "dist");
  rmSync(out, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: ["main", "api", "passkeyRow", "format"].map((name) => ({ in: join(src, `${name}.ts`), out: name })),
    outdir: out,
    bundle: true,
    minify: true,
    legalComments: "none",
  });
  cpSync(join(ui, "static"), out, { recursive: true });
}
