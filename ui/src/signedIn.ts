/** The signed-in screen: the account and the passkeys list. */
import type { Account, Environment, PasskeyList, UiError } from "./api.js";
import { append, button, h } from "./dom.js";
import { allDeviceBound } from "./format.js";
import { updateKeyed } from "./listUpdate.js";
import { PasskeyRow, type RowActions } from "./passkeyRow.js";
import { SessionsSection } from "./sessionsView.js";

/** What the signed-in screen asks of the app. */
export interface SignedInActions extends RowActions {
  signOut: () => void;
  addPasskey: () => void;
  retry: () => void;
  /** Says what happened (a notice). */
  told: (message: string) => void;
}

/** The signed-in screen. */
export class SignedInView {
  readonly root: HTMLElement;
  /** "Where you're signed in". */
  readonly sessions: SessionsSection;
  readonly #actions: SignedInActions;
  readonly #listBody: HTMLElement;
  readonly #addButton: HTMLButtonElement;
  readonly #environment: HTMLElement;
  readonly #passkeysApi: HTMLElement;
  /** "Every passkey is on one device": shown while that is true. */
  readonly #backupNotice: HTMLElement;
  #rows: PasskeyRow[] = [];
  /** The `<ul>` of the rows, while the list (not the empty, loading or error state) is shown. */
  #list: HTMLUListElement | null = null;
  #hasList = false;

  constructor(account: Account, actions: SignedInActions) {
    this.#actions = actions;
    this.#environment = h("dd", { testId: "account-environment" }, account.environment);
    this.#passkeysApi = h("dd", { testId: "account-passkeys-api" }, "…");
    this.#addButton = button("Add a passkey", actions.addPasskey, { variant: "primary", testId: "add-passkey" });
    this.#listBody = h("div", { testId: "passkeys", attrs: { "aria-live": "polite", "aria-busy": "true" } });
    this.#backupNotice = h(
      "div",
      { className: "backup-notice", testId: "backup-notice", attrs: { role: "status", hidden: "" } },
      h(
        "p",
        {},
        h("strong", {}, "None of your passkeys is backed up."),
        " Each lives only on its device or security key: if you lose it, you cannot sign in with it.",
      ),
      h("p", { className: "small" }, "Add a passkey from a password manager that syncs (such as iCloud Keychain or Google Password Manager), or a second security key."),
    );
    const displayName = account.name ?? account.email ?? account.subject;
    this.sessions = new SessionsSection({ told: actions.told, failed: actions.failed });
    this.root = h(
      "div",
      { testId: "signed-in" },
      h(
        "section",
        { className: "box", attrs: { "aria-labelledby": "account-title" } },
        h(
          "div",
          { className: "box-header" },
          h("h1", { attrs: { id: "account-title", tabindex: "-1" }, testId: "account-name" }, displayName),
          button("Sign out", actions.signOut, { testId: "sign-out" }),
        ),
        h(
          "dl",
          { className: "account box-body" },
          h("dt", {}, "Email"),
          h("dd", { testId: "account-email" }, account.email ?? "—"),
          h("dt", {}, "Environment"),
          this.#environment,
          h("dt", {}, "Passkeys broker"),
          this.#passkeysApi,
        ),
      ),
      h(
        "section",
        { className: "box", attrs: { "aria-labelledby": "passkeys-title" } },
        h(
          "div",
          { className: "box-header" },
          h("h2", { attrs: { id: "passkeys-title" } }, "Passkeys"),
          this.#addButton,
        ),
        this.#backupNotice,
        this.#listBody,
      ),
      this.sessions.root,
    );
    this.showLoading();
  }

  /** Focuses the heading, so keyboard users start at the top of the new screen. */
  focus(): void {
    this.root.querySelector<HTMLElement>("#account-title")?.focus();
  }

  /** Adds what the account view knows about the environment. */
  showEnvironment(environment: Environment): void {
    this.#environment.replaceChildren();
    append(this.#environment, [
      h("span", {}, environment.url),
      environment.embeddedEmulator && h("span", { className: "badge", testId: "embedded-badge" }, "Built-in emulator"),
    ]);
    this.#passkeysApi.replaceChildren();
    append(this.#passkeysApi, [
      environment.passkeysApi === null
        ? h("span", {}, "None configured")
        : h("span", { testId: "passkeys-api-url" }, environment.passkeysApi),
      environment.passkeysApi !== null && environment.embeddedEmulator && h("span", { className: "badge" }, "Built-in"),
    ]);
  }

  /** True while a row's rename field is open (a refresh would throw the typing away). */
  get isEditing(): boolean {
    return this.#rows.some((row) => row.editing);
  }

  /** True once a list has been shown. */
  get hasList(): boolean {
    return this.#hasList;
  }

  /** Loading state (only before the first list; later refreshes keep the list on screen). */
  showLoading(): void {
    this.#listBody.setAttribute("aria-busy", "true");
    if (this.#hasList) return;
    this.#list = null;
    this.#listBody.replaceChildren(h("p", { className: "state", testId: "passkeys-loading" }, "Loading your passkeys…"));
  }

  /**
   * Shows the passkeys, or the empty state. A keyed update: rows whose
   * passkey is unchanged stay as they are (element, focus and all), changed
   * ones render again in place, new ones are added and gone ones removed, in
   * the list's order. A row being renamed or confirming its removal is left
   * alone (see `updateKeyed`).
   */
  showPasskeys(list: PasskeyList): void {
    const focused = this.#rows.findIndex((row) => row.root.contains(document.activeElement));
    const focusedRow = this.#rows[focused];
    this.#hasList = true;
    this.#listBody.setAttribute("aria-busy", "false");
    const update = updateKeyed(this.#rows, list.passkeys, (passkey) => passkey.id, (passkey) => new PasskeyRow(passkey, this.#actions));
    this.#rows = update.rows;
    this.#backupNotice.hidden = !allDeviceBound(list.passkeys);
    if (this.#rows.length === 0) {
      this.#list = null;
      this.#listBody.replaceChildren(
        h(
          "div",
          { className: "empty", testId: "passkeys-empty" },
          h("p", {}, "No passkeys yet."),
          h("p", { className: "small" }, "Add one to sign in with your fingerprint, face or device PIN instead of a code."),
        ),
      );
      if (focused >= 0) this.#addButton.focus();
      return;
    }
    let listElement = this.#list;
    if (listElement === null) {
      listElement = h("ul", { className: "passkeys", attrs: { "aria-label": "Passkeys" } });
      this.#list = listElement;
      this.#listBody.replaceChildren(listElement);
    }
    for (const row of update.removed) row.root.remove();
    // Moves only rows that are out of place (moving an element loses its focus).
    let cursor = listElement.firstElementChild;
    for (const row of this.#rows) {
      if (row.root === cursor) {
        cursor = cursor.nextElementSibling;
      } else {
        listElement.insertBefore(row.root, cursor);
      }
    }
    // Focus was in a row that rendered again or went away: back to that row, else to its place.
    if (focusedRow !== undefined && !this.#rows.some((row) => row.root.contains(document.activeElement))) {
      const target = this.#rows.includes(focusedRow) ? focusedRow : this.#rows[Math.min(focused, this.#rows.length - 1)];
      (target ?? this.#addButton).focus();
    }
  }

  /** The number of passkeys shown. */
  get count(): number {
    return this.#rows.length;
  }

  /**
   * Shows why the list could not be loaded, with Retry; or, when no passkeys
   * broker is configured, that passkeys are managed in the browser here.
   */
  showError(error: UiError): void {
    this.#hasList = false;
    this.#backupNotice.hidden = true;
    this.#rows = [];
    this.#list = null;
    this.#listBody.setAttribute("aria-busy", "false");
    if (error.kind === "passkeysBrokerMissing") {
      this.#listBody.replaceChildren(
        h(
          "div",
          { className: "state", testId: "passkeys-in-browser" },
          h("p", { testId: "error-message" }, error.message),
          h(
            "div",
            { className: "actions" },
            button("Manage passkeys in the browser", this.#actions.addPasskey, { variant: "primary", testId: "manage-in-browser" }),
          ),
        ),
      );
      return;
    }
    const retry = button("Retry", this.#actions.retry, { testId: "retry" });
    this.#listBody.replaceChildren(
      h(
        "div",
        { className: "state state-error", attrs: { role: "alert" } },
        h("p", { testId: "error-message" }, explain(error)),
        h("div", { className: "actions" }, retry),
      ),
    );
  }
}

/** What a failure means for the person. */
export function explain(error: UiError): string {
  switch (error.kind) {
    case "network":
    case "timeout":
      return "You appear to be offline. Check your connection, then retry.";
    case "keychain":
      return `The app cannot read or keep your sign-in. ${error.message}`;
    default:
      return error.message;
  }
}
