/** One row of the passkeys list, with its inline rename. */
import { toUiError, type Passkey, type UiError } from "./api.js";
import { button, h, themedImage } from "./dom.js";
import {
  backupPosture,
  BACKUP_LABELS,
  localeDate,
  passkeyTitle,
  providerName,
  registeredWhere,
  transportsInWords,
} from "./format.js";
import { iconSources, providerIcons, type IconLookup } from "./icons.js";
import type { KeyedRow } from "./listUpdate.js";
import { checkPasskeyName, MAX_NAME_LENGTH } from "./validation.js";

/** What a row asks of the app. */
export interface RowActions {
  /** Renames on the server; resolves with the stored passkey or rejects with a `UiError`. */
  rename: (passkey: Passkey, name: string) => Promise<Passkey>;
  /** Asks for confirmation and removes. */
  remove: (passkey: Passkey, removeButton: HTMLButtonElement) => void;
  /** Errors that are not about the name (offline, signed out ...). */
  failed: (error: UiError) => void;
}

let rowCount = 0;

/**
 * Everything a row shows of a passkey, as one string: two passkeys with the
 * same one look the same (the icon counts once it has arrived).
 */
function shownAs(passkey: Passkey, icons: IconLookup): string {
  const key = passkey.authenticator.iconKey;
  const icon = key === null ? "" : `${key}${icons.get(key) === undefined ? "?" : ""}`;
  return JSON.stringify([
    passkeyTitle(passkey),
    providerName(passkey),
    passkey.createdAt,
    backupPosture(passkey),
    transportsInWords(passkey),
    registeredWhere(passkey),
    icon,
  ]);
}

/**
 * A passkey row; `editing` is true while the rename field is open. The row
 * keeps its element for its whole life: `update` renders again only when
 * something it shows changed.
 */
export class PasskeyRow implements KeyedRow<Passkey> {
  readonly root: HTMLLIElement;
  #passkey: Passkey;
  readonly #actions: RowActions;
  readonly #icons: IconLookup;
  readonly #id = `passkey-${String(++rowCount)}`;
  #shown = "";
  /** "Remove" was pressed: its confirmation may still be open. */
  #removing = false;
  editing = false;

  /** A row for `passkey`; its icon is looked up in `icons` (the page's cache unless told). */
  constructor(passkey: Passkey, actions: RowActions, icons: IconLookup = providerIcons) {
    this.#passkey = passkey;
    this.#actions = actions;
    this.#icons = icons;
    this.root = h("li", { className: "passkey", testId: "passkey-row" });
    this.root.dataset.passkeyId = passkey.id;
    this.#render();
  }

  /** The passkey shown. */
  get passkey(): Passkey {
    return this.#passkey;
  }

  /** The passkey's id: what the list is keyed by. */
  get key(): string {
    return this.#passkey.id;
  }

  /** True while the rename field is open or the removal is being confirmed. */
  get busy(): boolean {
    if (this.#removing && document.querySelector("dialog[open]") === null) this.#removing = false;
    return this.editing || this.#removing;
  }

  /**
   * Takes the passkey's new state; renders again only when what the row shows
   * changed (and never while it is busy). Returns true when it rendered.
   */
  update(passkey: Passkey): boolean {
    if (this.busy) return false;
    this.#passkey = passkey;
    if (shownAs(passkey, this.#icons) === this.#shown) return false;
    this.#render();
    return true;
  }

  /** Focuses the row's first button. */
  focus(): void {
    this.root.querySelector("button")?.focus();
  }

  #render(): void {
    const passkey = this.#passkey;
    this.editing = false;
    this.#shown = shownAs(passkey, this.#icons);
    const { light, dark } = iconSources(passkey.authenticator.iconKey, this.#icons);
    const created = localeDate(passkey.createdAt);
    const where = registeredWhere(passkey);
    const posture = backupPosture(passkey);
    const transports = transportsInWords(passkey);
    const renameButton = button("Rename", () => {
      this.#startRename();
    }, { size: "small", testId: "rename-button", label: `Rename ${passkeyTitle(passkey)}` });
    const removeButton = button("Remove", () => {
      this.#removing = true;
      this.#actions.remove(this.#passkey, removeButton);
    }, { size: "small", variant: "danger", testId: "remove-button", label: `Remove ${passkeyTitle(passkey)}` });
    this.root.replaceChildren(
      themedImage(light, dark, "passkey-icon", ""),
      h(
        "div",
        {},
        h("div", { className: "passkey-name", testId: "passkey-name", attrs: { id: `${this.#id}-name` } }, passkeyTitle(passkey)),
        h(
          "div",
          { className: "passkey-meta" },
          h("span", { testId: "passkey-provider" }, providerName(passkey)),
          created !== null && h("span", { testId: "passkey-created" }, `Created ${created}`),
          h(
            "span",
            { className: posture === "synced" ? "sync sync-synced" : "sync", testId: "passkey-sync" },
            BACKUP_LABELS[posture],
          ),
          transports !== null && h("span", { testId: "passkey-transports" }, transports),
        ),
        where !== null && h("div", { className: "passkey-meta", testId: "passkey-where" }, `Registered from ${where}`),
      ),
      h("div", { className: "passkey-actions" }, renameButton, removeButton),
    );
  }

  #startRename(): void {
    this.editing = true;
    const current = this.#passkey.displayName;
    const errorId = `${this.#id}-error`;
    const input = h("input", {
      testId: "rename-input",
      attrs: {
        type: "text",
        "aria-label": "Passkey name",
        "aria-describedby": errorId,
        maxlength: String(MAX_NAME_LENGTH * 4),
        autocomplete: "off",
        spellcheck: "false",
      },
    });
    input.value = current;
    const error = h("p", { className: "field-error", testId: "rename-error", attrs: { id: errorId, role: "alert" } });
    error.hidden = true;
    const save = button("Save", () => void submit(), { size: "small", variant: "primary", testId: "rename-save" });
    const cancel = button("Cancel", () => {
      this.#render();
      this.focus();
    }, { size: "small", testId: "rename-cancel" });
    const showError = (message: string): void => {
      error.textContent = message;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    };
    const submit = async (): Promise<void> => {
      const check = checkPasskeyName(input.value);
      if (!check.ok) {
        showError(check.message);
        return;
      }
      input.disabled = save.disabled = cancel.disabled = true;
      try {
        this.#passkey = await this.#actions.rename(this.#passkey, check.name);
        this.#render();
        this.focus();
      } catch (caught) {
        input.disabled = save.disabled = cancel.disabled = false;
        const failure = toUiError(caught);
        if (failure.kind === "invalidInput") {
          showError(failure.message);
        } else {
          this.#render();
          this.#actions.failed(failure);
        }
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        void submit();
      } else if (event.key === "Escape") {
        event.preventDefault();
        cancel.click();
      }
    });
    input.addEventListener("input", () => {
      if (!error.hidden && checkPasskeyName(input.value).ok) {
        error.hidden = true;
        input.removeAttribute("aria-invalid");
      }
    });
    const form = h("div", { className: "rename-form", testId: "rename-form" }, input, save, cancel, error);
    const nameElement = this.root.querySelector("[data-testid=passkey-name]");
    nameElement?.replaceWith(form);
    this.root.querySelector(".passkey-actions")?.replaceChildren();
    input.focus();
    input.select();
  }
}
