// Tauri's own NSIS template, read out of the Tauri CLI that ui/package.json
// pins, so the check follows the CLI the project really bundles with and no
// copy of Tauri's files lives in this repository.
//
// The bundler embeds installer.nsi, utils.nsh, FileAssociation.nsh and the
// language files with include_str!/include_bytes!: they sit in the CLI's
// binary as plain UTF-8, one after another with the other string constants
// and no separator. Each is found by its first line and ends at its last
// newline before the next constant; the result must end the way the file
// does (checked below), so a CLI that lays them out differently fails here
// instead of giving a half template.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FILES = [
  { name: "installer.nsi", first: "Unicode true\nManifestDPIAware true\n", last: "FunctionEnd" },
  { name: "utils.nsh", first: "; Change shell and registry context", last: "!macroend" },
  { name: "FileAssociation.nsh", first: "; from https://gist.github.com/nikku", last: "!macroend" },
  // The language files follow each other; English is every line up to the
  // first one of another language.
  { name: "English.nsh", first: "LangString addOrReinstall ${LANG_ENGLISH}", onlyLinesWith: "${LANG_ENGLISH}" },
];

/** The pinned CLI's version and the path of its native binary (Linux x64). */
export function tauriCli(root) {
  const pinned = JSON.parse(readFileSync(join(root, "ui/package.json"), "utf8")).devDependencies["@tauri-apps/cli"];
  const modules = join(root, "ui/node_modules/@tauri-apps");
  const cli = JSON.parse(readFileSync(join(modules, "cli/package.json"), "utf8"));
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`the Tauri CLI's binary is read for Linux x64 only, not ${process.platform} ${process.arch}`);
  }
  const native = join(modules, "cli-linux-x64-gnu");
  const nativePackage = JSON.parse(readFileSync(join(native, "package.json"), "utf8"));
  if (cli.version !== pinned || nativePackage.version !== pinned) {
    throw new Error(
      `ui/package.json pins @tauri-apps/cli ${pinned}, ui/node_modules has ${cli.version} ` +
        `(binary ${nativePackage.version}): run npm --prefix ui ci`,
    );
  }
  return { version: pinned, binary: join(native, nativePackage.main) };
}

function isText(byte) {
  return byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte !== 0x7f);
}

/** installer.nsi, utils.nsh, FileAssociation.nsh and English.nsh as strings, by name. */
export function extractTemplates(binaryPath) {
  const binary = readFileSync(binaryPath);
  const starts = new Map();
  for (const file of FILES) {
    const at = binary.indexOf(file.first);
    if (at < 0 || binary.indexOf(file.first, at + 1) >= 0) {
      throw new Error(`${file.name}: its first line is not in ${binaryPath} exactly once`);
    }
    starts.set(file.name, at);
  }
  const texts = {};
  for (const file of FILES) {
    const start = starts.get(file.name);
    let end = start;
    while (end < binary.length && isText(binary[end])) end += 1;
    for (const other of starts.values()) {
      if (other > start && other < end) end = other;
    }
    let text = new TextDecoder("utf-8", { fatal: true }).decode(
      binary.subarray(start, binary.lastIndexOf(0x0a, end - 1) + 1),
    );
    if (file.onlyLinesWith) {
      const lines = text.split("\n");
      const count = lines.findIndex((line) => !line.includes(file.onlyLinesWith));
      if (count < 10) throw new Error(`${file.name}: only ${count} lines found in the CLI`);
      text = `${lines.slice(0, count).join("\n")}\n`;
    } else if (!text.endsWith(`\n${file.last}\n`)) {
      throw new Error(`${file.name}: what follows its first line in the CLI does not end with ${file.last}`);
    }
    texts[file.name] = text;
  }
  return texts;
}
