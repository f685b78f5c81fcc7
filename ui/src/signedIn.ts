/** The signed-in screen: the account and the passkeys list. */
import type { Account, Environment, Passkey, UiError } from "./api.js";
import { append, button, h } from "./dom.js";
import { PasskeyRow, type RowActions } from "./passkeyRow.js";

/** What the signed-in screen asks of the app. */
export interface SignedInActions extends RowActions {
  signOut: () => void;
  addPasskey: () => void;
  retry: () => void;
}

/** The signed-in screen. */
export class SignedInView {
  readonly root: HTMLElement;
  readonly #actions: SignedInActions;
  readonly #listBody: HTMLElement;
  readonly #addButton: HTMLButtonElement;
  readonly #environment: HTMLElement;
  #rows: PasskeyRow[] = [];
  #hasList = false;

  constructor(account: Account, actions: SignedInActions) {
    this.#actions = actions;
    this.#environment = h("dd", { testId: "account-environment" }, account.environment);
    this.#addButton = button("Add a passkey", actions.addPasskey, { variant: "primary", testId: "add-passkey" });
    this.#listBody = h("div", { testId: "passkeys", attrs: { "aria-live": "polite", "aria-busy": "true" } });
    const displayName = account.name ?? account.email ?? account.subject;
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
        this.#listBody,
      ),
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
    this.#listBody.replaceChildren(h("p", { className: "state", testId: "passkeys-loading" }, "Loading your passkeys…"));
  }

  /** Shows the passkeys, or the empty state. */
  showPasskeys(passkeys: Passkey[]): void {
    const focusedIndex = this.#rows.findIndex((row) => row.root.contains(document.activeElement));
    this.#hasList = true;
    this.#listBody.setAttribute("aria-busy", "false");
    if (passkeys.length === 0) {
      this.#rows = [];
      this.#listBody.replaceChildren(
        h(
          "div",
          { className: "empty", testId: "passkeys-empty" },
          h("p", {}, "No passkeys yet."),
          h("p", { className: "small" }, "Add one to sign in with your fingerprint, face or device PIN instead of a code."),
        ),
      );
      if (focusedIndex >= 0) this.#addButton.focus();
      return;
    }
    const actions: RowActions = this.#actions;
    this.#rows = passkeys.map((passkey) => new PasskeyRow(passkey, actions));
    this.#listBody.replaceChildren(h("ul", { className: "passkeys", attrs: { "aria-label": "Passkeys" } }, ...this.#rows.map((row) => row.root)));
    if (focusedIndex >= 0) (this.#rows[Math.min(focusedIndex, this.#rows.length - 1)] ?? this.#addButton).focus();
  }

  /** The number of passkeys shown. */
  get count(): number {
    return this.#rows.length;
  }

  /** Shows why the list could not be loaded, with Retry. */
  showError(error: UiError): void {
    this.#hasList = false;
    this.#rows = [];
    this.#listBody.setAttribute("aria-busy", "false");
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
