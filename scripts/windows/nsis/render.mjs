// Renders the pinned Tauri CLI's NSIS installer script for this app's
// Windows build, as `tauri bundle --bundles nsis` would on this machine if
// it could download its NSIS plug-in (scripts/windows/check-installer says
// why it cannot):
//   node scripts/windows/nsis/render.mjs [--compression zlib|bzip2|lzma|none] BIN_DIR PLUGIN_DIR OUT_DIR
// BIN_DIR holds the Windows build (the main program and the sidecars, as
// NAME.exe), PLUGIN_DIR the nsis_tauri_utils.dll to compile with, OUT_DIR
// gets installer.nsi, utils.nsh, FileAssociation.nsh and English.nsh (UTF-8
// with a byte-order mark, as the bundler writes them), data.json (what the
// template was given) and app.env (the app's names, for the shell script).
// --compression replaces the app's setting (bundle > windows > nsis >
// compression, LZMA by default).
//
// The data and the helpers are those of tauri-bundler's
// src/bundle/windows/nsis/mod.rs (2.10), values from tauri.conf.json and
// tauri.bundle.conf.json. Settings this check does not render (resources,
// file associations, icons, hooks, signing…) stop it rather than being left
// out silently.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { extractTemplates, tauriCli } from "./tauri-template.mjs";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const args = process.argv.slice(2);
const compressionOverride = args[0] === "--compression" ? args.splice(0, 2)[1] : undefined;
const [binDir, pluginDir, outDir] = args.map((path) => resolve(path));
if (!outDir || args.length !== 3 || !["zlib", "bzip2", "lzma", "none", undefined].includes(compressionOverride)) {
  console.error(
    "usage: node scripts/windows/nsis/render.mjs [--compression zlib|bzip2|lzma|none] BIN_DIR PLUGIN_DIR OUT_DIR",
  );
  process.exit(2);
}

// JSON merge patch (RFC 7396), as the CLI merges --config files.
function merge(target, patch) {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = merge(out[key], value);
  }
  return out;
}
const readJson = (name) => JSON.parse(readFileSync(join(root, name), "utf8"));
let config = readJson("tauri.conf.json");
// tauri.windows.conf.json is merged by the CLI for a Windows target;
// tauri.bundle.conf.json (the sidecars) is passed with --config.
for (const name of ["tauri.windows.conf.json", "tauri.bundle.conf.json"]) {
  if (existsSync(join(root, name))) config = merge(config, readJson(name));
}
const bundle = config.bundle ?? {};
const windows = bundle.windows ?? {};
const nsis = windows.nsis ?? {};

const notRendered = [
  ...["resources", "fileAssociations", "licenseFile"].filter((key) => bundle[key] !== undefined),
  ...["signCommand", "certificateThumbprint", "bundleVCRuntime"]
    .filter((key) => windows[key] !== undefined)
    .map((key) => `windows > ${key}`),
  ...Object.keys(nsis)
    .filter((key) => !["installMode", "compression", "startMenuFolder", "minimumWebview2Version"].includes(key))
    .filter((key) => !(key === "languages" && JSON.stringify(nsis.languages) === '["English"]'))
    .map((key) => `windows > nsis > ${key}`),
];
if (notRendered.length) {
  throw new Error(`this check does not render bundle > ${notRendered.join(", bundle > ")}: teach render.mjs`);
}

// The main binary: mainBinaryName, else the name of the root Cargo package.
const cargoToml = readFileSync(join(root, "Cargo.toml"), "utf8");
const mainBinaryName = config.mainBinaryName ?? cargoToml.match(/^\[package\][^[]*?^name\s*=\s*"([^"]+)"/m)[1];
const mainBinaryPath = join(binDir, `${mainBinaryName}.exe`);
// The bundler's externalBin files are binaries/NAME-TRIPLE.exe; installed
// as NAME.exe. Here they come from the build folder under that name.
const sidecars = (bundle.externalBin ?? []).map((path) => `${basename(path)}.exe`).sort();
const binaries = Object.fromEntries(sidecars.map((name) => [join(binDir, name), name]));
// For a -gnu target the bundler adds WebView2Loader.dll from the build folder.
const loader = join(binDir, "WebView2Loader.dll");
const resources = existsSync(loader) ? { [loader]: ["", "WebView2Loader.dll"] } : {};
const sizes = [mainBinaryPath, ...Object.keys(binaries), ...Object.keys(resources)].map((path) => statSync(path).size);

const version = config.version;
const [, core, build] = version.match(/^([0-9]+\.[0-9]+\.[0-9]+)(?:-[^+]*)?(?:\+(.*))?$/);
const deepLinks = config.plugins?.["deep-link"]?.desktop;
const schemes = (Array.isArray(deepLinks) ? deepLinks : deepLinks ? [deepLinks] : []).flatMap((p) => p.schemes);
const identifier = config.identifier;

const data = {
  additional_plugins_path: pluginDir,
  arch: "x64",
  bundle_id: identifier,
  manufacturer: bundle.publisher ?? identifier.split(".")[1] ?? identifier,
  product_name: config.productName,
  short_description: bundle.shortDescription ?? "",
  homepage: bundle.homepage ?? "",
  long_description: bundle.longDescription ?? "",
  copyright: bundle.copyright ?? null,
  version,
  version_with_build: `${core}.${/^[0-9]+$/.test(build ?? "") ? build : 0}`,
  allow_downgrades: windows.allowDowngrades ?? true,
  start_menu_folder: nsis.startMenuFolder,
  minimum_webview2_version: nsis.minimumWebview2Version ?? windows.minimumWebview2Version,
  compression: compressionOverride ?? (nsis.compression ?? "lzma").toLowerCase(),
  install_mode: nsis.installMode ?? "currentUser",
  languages: ["English"],
  display_language_selector: false,
  language_files: [join(outDir, "English.nsh")],
  main_binary_name: mainBinaryName,
  main_binary_path: mainBinaryPath,
  out_file: "nsis-output.exe",
  resources_ancestors: [],
  resources_dirs: Object.keys(resources).length ? [""] : [],
  resources,
  binaries,
  estimated_size: Math.floor(sizes.reduce((a, b) => a + b, 0) / 1024),
  ...(schemes.length ? { deep_link_protocols: schemes } : {}),
  // webviewInstallMode `skip`, whatever tauri.conf.json says: the app's
  // embedBootstrapper makes the bundler download Microsoft's WebView2
  // bootstrapper, which this machine cannot, and Wine has no WebView2 for
  // it to install anyway. The WebView2 section then checks and skips.
  webview2_installer_args: "/silent",
  install_webview2_mode: "",
};
const KNOWN_DATA = new Set([
  ...Object.keys(data),
  ...["signed_plugins_path", "uninstaller_sign_cmd", "license", "installer_icon", "header_image", "sidebar_image"],
  ...["uninstaller_icon", "uninstaller_header_image", "installer_hooks", "file_associations"],
  ...["deep_link_protocols", "webview2_bootstrapper_path", "webview2_installer_path"],
]);

// handlebars-rust's escape function of the bundler: NSIS string escapes.
Handlebars.Utils.escapeExpression = (value) => {
  if (value instanceof Handlebars.SafeString) return value.toHTML();
  if (value === null || value === undefined) return "";
  const map = { '"': '$\\"', $: "$$", "`": "$\\`", "\n": "$\\n", "\t": "$\\t", "\r": "$\\r" };
  return String(value).replace(/["$`\n\t\r]/g, (c) => map[c]);
};
// handlebars-rust helpers write their output unescaped: SafeString here.
const empty = (value) => value === null || value === undefined || String(value) === "";
const raw = (value) => new Handlebars.SafeString(empty(value) ? "" : String(value));
const helpers = {
  or: (a, b) => raw(empty(a) ? b : a),
  "association-description": (description, ext) =>
    raw(empty(description) ? `${String(ext).toUpperCase()} File` : description),
  "no-escape": (value) => raw(value),
};
for (const [name, helper] of Object.entries(helpers)) Handlebars.registerHelper(name, helper);

// A newer CLI whose template uses data or helpers not rendered here must
// fail, not render empty strings: every name the template takes from the
// top level, and every helper it calls, has to be known.
function checkNames(node, inEach, unknown) {
  if (!node || typeof node !== "object") return;
  if (Array.isArray(node)) return node.forEach((child) => checkNames(child, inEach, unknown));
  const builtin = ["if", "unless", "each", "with", "lookup", "log"];
  if (["MustacheStatement", "BlockStatement", "SubExpression"].includes(node.type)) {
    const name = node.path.original;
    const unknownData = (path) =>
      path.type === "PathExpression" && !inEach && !path.data && !KNOWN_DATA.has(path.parts[0]);
    if (node.params.length || node.type === "BlockStatement") {
      if (!builtin.includes(name) && !(name in helpers)) unknown.add(`helper ${name}`);
    } else if (unknownData(node.path)) unknown.add(name);
    for (const param of node.params) {
      if (unknownData(param)) unknown.add(param.original);
      checkNames(param, inEach, unknown);
    }
    const each = node.type === "BlockStatement" && name === "each";
    checkNames(node.program, inEach || each, unknown);
    checkNames(node.inverse, inEach, unknown);
    return;
  }
  if (node.body) checkNames(node.body, inEach, unknown);
}

const cli = tauriCli(root);
const texts = extractTemplates(cli.binary);
const unknown = new Set();
checkNames(Handlebars.parse(texts["installer.nsi"]), false, unknown);
if (unknown.size) {
  throw new Error(
    `the NSIS template of Tauri CLI ${cli.version} uses ${[...unknown].join(", ")}: ` +
      "update render.mjs from tauri-bundler's nsis/mod.rs",
  );
}

const bom = "\uFEFF";
writeFileSync(join(outDir, "installer.nsi"), bom + Handlebars.compile(texts["installer.nsi"])(data));
for (const name of ["utils.nsh", "FileAssociation.nsh", "English.nsh"]) {
  writeFileSync(join(outDir, name), bom + texts[name]);
}
writeFileSync(join(outDir, "data.json"), `${JSON.stringify(data, null, 2)}\n`);
const quote = (value) => `'${String(value).replaceAll("'", "'\\''")}'`;
const env = {
  TAURI_CLI_VERSION: cli.version,
  PRODUCT_NAME: config.productName,
  VERSION: version,
  IDENTIFIER: identifier,
  PUBLISHER: data.manufacturer,
  MAIN_BINARY: `${mainBinaryName}.exe`,
  SIDECARS: sidecars.join(" "),
  SCHEMES: schemes.join(" "),
  WEBVIEW2_LOADER: Object.keys(resources).length ? "WebView2Loader.dll" : "",
};
writeFileSync(join(outDir, "app.env"), Object.entries(env).map(([k, v]) => `${k}=${quote(v)}\n`).join(""));
