// Copies the static files (HTML, CSS, images) next to the compiled modules in dist/.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
mkdirSync(join(ui, "dist"), { recursive: true });
cpSync(join(ui, "static"), join(ui, "dist"), { recursive: true });
