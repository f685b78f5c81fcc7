/**
 * The providers' icons the page has received, by key (memory only, for this
 * run). `list_passkeys` sends each icon once: rows name theirs by key, and
 * the call names the keys the page has, so later answers carry none of them.
 */
import type { ProviderIcon } from "./api.js";

/** Most icons kept; past it the cache starts again (the next list sends them anew). */
export const MAX_ICONS = 256;

/** Where a row looks up its provider's icon. */
export interface IconLookup {
  get: (key: string) => ProviderIcon | undefined;
}

/** The generic icons of a passkey whose provider has none. */
export const GENERIC_ICON: Readonly<{ light: string; dark: string }> = {
  light: "./images/key.svg",
  dark: "./images/key-dark.svg",
};

/** Keeps only inline images (the webview loads no remote content; the Rust side checks this too). */
function inlineImage(value: unknown): string | null {
  return typeof value === "string" && value.startsWith("data:image/") ? value : null;
}

/** The icons received so far. */
export class IconCache implements IconLookup {
  readonly #icons = new Map<string, ProviderIcon>();

  /** The keys of the icons held, to name in the next `list_passkeys` call. */
  keys(): string[] {
    return [...this.#icons.keys()];
  }

  /** The icon under `key`, if received. */
  get(key: string): ProviderIcon | undefined {
    return this.#icons.get(key);
  }

  /** The number of icons held. */
  get size(): number {
    return this.#icons.size;
  }

  /** Keeps the icons of an answer (only their `data:image/…` URIs). */
  add(icons: Record<string, ProviderIcon>): void {
    const entries = Object.entries(icons);
    if (this.#icons.size + entries.length > MAX_ICONS) this.#icons.clear();
    for (const [key, icon] of entries.slice(0, MAX_ICONS)) {
      const light = inlineImage(icon.light);
      const dark = inlineImage(icon.dark);
      if (light !== null || dark !== null) this.#icons.set(key, { light, dark });
    }
  }
}

/** The page's one icon cache: `api.listPasskeys` fills it, the rows read it. */
export const providerIcons = new IconCache();

/** The image sources for an icon key: the provider's icon (dark falls back to light), else the generic one. */
export function iconSources(key: string | null, icons: IconLookup): { light: string; dark: string } {
  const icon = key === null ? undefined : icons.get(key);
  if (icon === undefined) return GENERIC_ICON;
  const light = icon.light ?? icon.dark ?? GENERIC_ICON.light;
  return { light, dark: icon.dark ?? light };
}
