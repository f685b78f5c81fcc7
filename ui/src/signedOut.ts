/** The signed-out screen: "Sign in", then progress while the browser is used. */
import type { AccountSummary, SignInProgress } from "./api.js";
import { button, h } from "./dom.js";
import { unconfiguredAccountsText } from "./format.js";
import { logo } from "./logo.js";

/** What the signed-out screen asks of the app. */
export interface SignedOutActions {
  signIn: () => void;
  cancel: () => void;
  /** Removes the accounts whose environment is no longer configured. */
  removeUnconfigured: () => void;
}

/** The signed-out screen, switchable between idle and waiting. */
export class SignedOutView {
  readonly root: HTMLElement;
  readonly #actions: SignedOutActions;
  readonly #signInButton: HTMLButtonElement;
  readonly #progress: HTMLElement;
  readonly #hint: HTMLElement;
  readonly #unconfigured: HTMLElement;

  constructor(actions: SignedOutActions) {
    this.#actions = actions;
    this.#signInButton = button("Sign in", actions.signIn, { variant: "primary", size: "large", testId: "sign-in" });
    this.#progress = h("div", { className: "progress", testId: "sign-in-progress" });
    this.#progress.hidden = true;
    this.#hint = h("p", { className: "muted small hint", testId: "emulator-hint" });
    this.#hint.hidden = true;
    this.#unconfigured = h("div", { className: "unconfigured-accounts", testId: "unconfigured-accounts" });
    this.#unconfigured.hidden = true;
    this.root = h(
      "section",
      { className: "welcome", testId: "signed-out", attrs: { "aria-labelledby": "welcome-title" } },
      logo(48),
      h("h1", { attrs: { id: "welcome-title", tabindex: "-1" } }, "Manage your passkeys"),
      h(
        "p",
        { className: "muted" },
        "Sign in with your browser to see the passkeys of your account, rename them, remove them or add new ones.",
      ),
      this.#signInButton,
      this.#progress,
      this.#hint,
      this.#unconfigured,
    );
  }

  /**
   * Names the accounts still in the keychain whose environment is no longer
   * configured (none: hidden), with the button that removes them: signed
   * out, the switcher is not shown, so this is where they can go.
   */
  showUnconfigured(accounts: readonly AccountSummary[]): void {
    const stale = accounts.filter((account) => !account.configured);
    this.#unconfigured.hidden = stale.length === 0;
    if (stale.length === 0) {
      this.#unconfigured.replaceChildren();
      return;
    }
    const names = stale.map((account) => `${account.email ?? account.subject} (${account.environment})`);
    this.#unconfigured.replaceChildren(
      h("p", { className: "muted small" }, unconfiguredAccountsText(names)),
      button("Remove from this computer", this.#actions.removeUnconfigured, {
        size: "small",
        testId: "remove-unconfigured-signed-out",
      }),
    );
  }

  /**
   * With the built-in emulator: where the email codes of its sign-in pages show up, its dev
   * mailbox's address (with a key made at each start that only this app was given).
   */
  showEmulatorHint(devMailbox: string): void {
    this.#hint.replaceChildren(
      "Built-in emulator: nothing leaves this computer. Sign up with any email address; the code is printed in the terminal and shown at ",
      h("code", { testId: "mailbox-url" }, devMailbox),
      " (an address only this app knows: anyone with it could sign in as you).",
    );
    this.#hint.hidden = false;
  }

  /** Moves keyboard focus to the main action. */
  focus(): void {
    this.#signInButton.focus();
  }

  /** Shows "Waiting for your browser…" with Cancel, and the link when the browser did not open. */
  showWaiting(progress: SignInProgress | null): void {
    const hadFocus = this.root.contains(document.activeElement);
    this.#signInButton.disabled = true;
    this.#signInButton.hidden = true;
    const cancel = button("Cancel", this.#actions.cancel, { testId: "cancel-sign-in" });
    const line = h(
      "div",
      { className: "progress-line" },
      h("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
      h("span", { testId: "sign-in-waiting" }, "Waiting for your browser…"),
    );
    const children: Node[] = [line];
    if (progress?.stage === "completingSignIn") {
      line.lastElementChild?.replaceChildren("Finishing sign-in…");
      children.push(h("p", { className: "muted small" }, "Your browser came back. One moment."));
    } else if (progress !== null && !progress.browserOpened) {
      children.push(this.#linkField(progress.authorizeUrl));
    } else {
      children.push(
        h("p", { className: "muted small" }, "Finish in the browser window that opened; this window updates by itself."),
      );
    }
    children.push(h("div", { className: "actions" }, cancel));
    this.#progress.replaceChildren(...children);
    this.#progress.hidden = false;
    if (hadFocus || document.activeElement === document.body) cancel.focus();
  }

  /** Back to the idle screen with "Sign in". */
  showIdle(): void {
    const hadFocus = this.root.contains(document.activeElement);
    this.#progress.hidden = true;
    this.#progress.replaceChildren();
    this.#signInButton.hidden = false;
    this.#signInButton.disabled = false;
    if (hadFocus) this.#signInButton.focus();
  }

  #linkField(url: string): HTMLElement {
    const field = h("input", {
      testId: "authorize-link",
      attrs: { type: "text", readonly: "", "aria-label": "Sign-in link" },
    });
    field.value = url;
    const status = h("span", { className: "visually-hidden", attrs: { role: "status" } });
    const copy = button(
      "Copy link",
      () => {
        void copyText(field).then((copied) => {
          copy.textContent = copied ? "Copied" : "Select and copy";
          status.textContent = copied ? "Link copied." : "Select the link and copy it.";
        });
      },
      { testId: "copy-link" },
    );
    return h(
      "div",
      {},
      h("p", { className: "small", testId: "browser-not-opened" }, "Your browser did not open. Open this link in a browser to sign in:"),
      h("div", { className: "link-field" }, field, copy),
      status,
    );
  }
}

async function copyText(field: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(field.value);
    return true;
  } catch {
    field.focus();
    field.select();
    // The Clipboard API may be unavailable in the webview; the selection then lets the person copy by hand.
    return false;
  }
}
