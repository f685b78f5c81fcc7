/**
 * The account switcher in the header: the current account's email and
 * environment on a button that opens the list of accounts. Each account can
 * be switched to (at once: the identity shown is cached, no network) or
 * signed out of, leaving the others; another account can be added by
 * signing in to a configured environment; accounts whose environment is no
 * longer configured are listed and can be removed from the keychain.
 *
 * Plain buttons and a select: it works from the keyboard, and Escape closes
 * the list with the focus back on its button.
 */
import * as api from "./api.js";
import type { AccountSummary, AccountsOverview } from "./api.js";
import { append, button, h } from "./dom.js";

/** What the switcher asks the window to do. */
export interface SwitcherActions {
  switchTo: (key: string) => void;
  signOut: (key: string) => void;
  signIn: (environment: string) => void;
  removeUnconfigured: () => void;
}

function who(account: AccountSummary): string {
  return account.email ?? account.name ?? account.subject;
}

export class AccountSwitcher {
  readonly #root: HTMLElement;
  readonly #toggle: HTMLButtonElement;
  readonly #menu: HTMLElement;
  readonly #actions: SwitcherActions;

  constructor(root: HTMLElement, actions: SwitcherActions) {
    this.#root = root;
    this.#actions = actions;
    this.#toggle = h(
      "button",
      {
        className: "button button-small switcher-toggle",
        testId: "account-switcher",
        attrs: { type: "button", "aria-expanded": "false", "aria-controls": "account-menu" },
        onClick: () => {
          this.#setOpen(this.#menu.hidden === true);
        },
      },
    );
    this.#menu = h("div", {
      className: "account-menu",
      testId: "account-menu",
      attrs: { id: "account-menu", role: "group", "aria-label": "Accounts" },
    });
    this.#menu.hidden = true;
    root.replaceChildren(this.#toggle, this.#menu);
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.#menu.hidden !== true) {
        event.preventDefault();
        this.#setOpen(false);
        this.#toggle.focus();
      }
    });
    root.hidden = true;
  }

  /** Reads the accounts again (no network) and shows them. */
  async refresh(): Promise<void> {
    try {
      this.show(await api.listAccounts());
    } catch {
      this.#root.hidden = true;
    }
  }

  /** Shows `overview`; hidden while no account is signed in. */
  show(overview: AccountsOverview): void {
    const current = overview.accounts.find((account) => account.current);
    this.#root.hidden = current === undefined;
    if (current === undefined) {
      this.#setOpen(false);
      return;
    }
    this.#toggle.replaceChildren();
    append(this.#toggle, [
      h("span", { className: "switcher-email", testId: "switcher-email" }, who(current)),
      h("span", { className: "switcher-environment", testId: "switcher-environment" }, current.environment),
      h("span", { className: "visually-hidden" }, ": your accounts"),
    ]);
    const rows = overview.accounts.map((account) => this.#row(account));
    const stale = overview.accounts.some((account) => !account.configured);
    this.#menu.replaceChildren();
    append(this.#menu, [
      h("ul", { className: "accounts", testId: "accounts" }, ...rows),
      stale &&
        button("Remove accounts no longer configured", () => {
          this.#setOpen(false);
          this.#actions.removeUnconfigured();
        }, { size: "small", testId: "remove-unconfigured" }),
      this.#addAnother(overview.environments),
    ]);
  }

  #row(account: AccountSummary): HTMLElement {
    const name = `${who(account)} (${account.environment})`;
    const state = !account.configured
      ? h("span", { className: "badge" }, "Environment no longer configured")
      : account.current
        ? h("span", { className: "badge", testId: "current-account" }, "Current")
        : button("Switch", () => {
            this.#setOpen(false);
            this.#actions.switchTo(account.key);
          }, { size: "small", testId: "switch-account", label: `Switch to ${name}` });
    const signOut =
      account.configured &&
      button("Sign out", () => {
        this.#setOpen(false);
        this.#actions.signOut(account.key);
      }, { size: "small", testId: "sign-out-account", label: `Sign out of ${name}` });
    return h(
      "li",
      { className: "account-row", testId: "account-row" },
      h(
        "span",
        { className: "account-who" },
        h("span", { className: "account-email" }, who(account)),
        h("span", { className: "account-environment" }, account.environment),
      ),
      h("span", { className: "account-actions" }, state, signOut),
    );
  }

  #addAnother(environments: string[]): HTMLElement {
    const select = h("select", { testId: "add-account-environment", attrs: { id: "add-account-environment" } });
    for (const name of environments) append(select, [h("option", { attrs: { value: name } }, name)]);
    return h(
      "div",
      { className: "add-account" },
      h("label", { attrs: { for: "add-account-environment" } }, "Add another account on"),
      select,
      button("Sign in", () => {
        this.#setOpen(false);
        this.#actions.signIn(select.value);
      }, { size: "small", testId: "add-account" }),
    );
  }

  #setOpen(open: boolean): void {
    this.#menu.hidden = !open;
    this.#toggle.setAttribute("aria-expanded", String(open));
    if (open) this.#menu.querySelector<HTMLElement>("button, select")?.focus();
  }
}
