/**
 * The app's window: picks the screen from the session and wires the screens
 * to the commands in `api.ts`.
 */
import * as api from "./api.js";
import type { Account, Passkey, SessionState, UiError } from "./api.js";
import { AccountSwitcher } from "./accountSwitcher.js";
import { confirmRemoval, confirmSignInAgain } from "./dialog.js";
import { withStepUp } from "./stepUp.js";
import { button, h } from "./dom.js";
import { openDiagnose } from "./diagnose.js";
import { passkeyTitle, removedAccountsMessage, stillSavedIn, whereItStays } from "./format.js";
import { Notices } from "./notices.js";
import { explain, SignedInView } from "./signedIn.js";
import { SignedOutView } from "./signedOut.js";

class App {
  readonly #main: HTMLElement;
  readonly #notices: Notices;
  #signedOut: SignedOutView | null = null;
  #signedIn: SignedInView | null = null;
  /** The account shown: its environment and subject (null: signed out). */
  #subject: string | null = null;
  /** The view whose list is being loaded (a switch starts another view's load). */
  #loadingList: SignedInView | null = null;
  #switcher: AccountSwitcher | null = null;
  #signingIn = false;
  /** "Waiting for the browser" events seen: tells a replaced sign-in from a cancelled one. */
  #waitingEvents = 0;
  /** Work that waits until the first view's frame is reported (null once it is). */
  #afterFirstFrame: (() => void)[] | null = [];

  constructor(main: HTMLElement, notices: Notices, switcherRoot: HTMLElement | null) {
    this.#main = main;
    this.#notices = notices;
    if (switcherRoot !== null) {
      this.#switcher = new AccountSwitcher(switcherRoot, {
        switchTo: (key) => void this.#changeAccount(() => api.switchAccount(key)),
        signOut: (key) => void this.#changeAccount(() => api.signOutAccount(key)),
        signIn: (environment) => void this.#signIn(environment),
        removeUnconfigured: () => void this.#removeUnconfigured(),
      });
    }
  }

  /** Switches or signs out of an account, then shows whoever is current. */
  async #changeAccount(change: () => Promise<SessionState>): Promise<void> {
    try {
      this.#showSession(await change());
    } catch (caught) {
      this.#handleError(api.toUiError(caught));
    }
  }

  async #removeUnconfigured(): Promise<void> {
    try {
      const removed = await api.removeUnconfiguredAccounts();
      this.#notices.show(removedAccountsMessage(removed.length));
    } catch (caught) {
      this.#handleError(api.toUiError(caught));
    }
    void this.#switcher?.refresh();
    this.#showUnconfiguredSignedOut();
  }

  /** Signed out: names the accounts no longer configured, if any (read from what is known, no network). */
  #showUnconfiguredSignedOut(): void {
    const view = this.#signedOut;
    if (view === null) return;
    void api.listAccounts().then((overview) => {
      view.showUnconfigured(overview.accounts);
    }, () => undefined);
  }

  /**
   * Shows the first view as soon as the session is known (at once when the
   * app handed it to the page before it started, `api.takeBootData`) and reports
   * readiness in its frame (`app_ready`). Everything the first view does not
   * need waits for that frame, so as not to compete with it: the event
   * subscriptions (one round trip to Rust each), focus, the environment and
   * the passkey list. Once subscribed, the session is read again, so that a
   * change before the subscriptions (a sign-in completed from a deep link) is
   * not missed.
   */
  async start(): Promise<void> {
    // Marks for the benchmarks (see `#loadPasskeys`): script start → session
    // shown → the frame that shows it.
    performance.mark("app-start");
    window.addEventListener("focus", () => {
      this.#refreshOnFocus();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.#refreshOnFocus();
    });
    // The session the app read before the page started, when it had it in
    // time: the first view is then drawn without waiting for anything.
    const boot = api.takeBootData();
    const loaded = boot === null ? await this.#loadSession() : this.#showBoot(boot);
    performance.measure("session-shown", "app-start");
    await new Promise((resolve) => requestAnimationFrame(resolve));
    performance.measure("first-frame", "app-start");
    void api.appReady().catch(() => undefined);
    const waiting = this.#afterFirstFrame ?? [];
    this.#afterFirstFrame = null;
    for (const task of waiting) task();
    await this.#subscribe();
    if (loaded) {
      // Quietly: a failure here changes nothing the person sees.
      await api.session().then((state) => {
        this.#showSession(state);
      }, () => undefined);
    }
  }

  /** Runs `task` now if the first view's frame was reported, else right after it. */
  #whenFirstFrameShown(task: () => void): void {
    if (this.#afterFirstFrame === null) task();
    else this.#afterFirstFrame.push(task);
  }

  #subscribe(): Promise<unknown> {
    return Promise.all([
      api.onSignInProgress((progress) => {
        if (progress.stage === "waitingForBrowser") this.#waitingEvents += 1;
        if (this.#subject === null) this.#showSignedOut().showWaiting(progress);
      }),
      api.onSessionChanged((state) => {
        this.#showSession(state);
      }),
      api.onNotice((notice) => {
        this.#notices.show(notice.message);
      }),
      api.onSignInLink((link) => {
        void this.#confirmSignInLink(link.account);
      }),
      api.onWindowFocus(() => {
        this.#refreshOnFocus();
      }),
    ]);
  }

  /** Reads the session and shows it; false when it could not be read (the error is shown). */
  async #loadSession(): Promise<boolean> {
    try {
      this.#showSession(await api.session());
      return true;
    } catch (caught) {
      this.#showFatal(api.toUiError(caught));
      return false;
    }
  }

  /** Shows the session or the error the app read before the page started; false on the error. */
  #showBoot(boot: api.BootData): boolean {
    if ("session" in boot) {
      this.#showSession(boot.session);
      return true;
    }
    this.#showFatal(api.toUiError(boot.error));
    return false;
  }

  #showSession(state: SessionState): void {
    this.#main.setAttribute("aria-busy", "false");
    void this.#switcher?.refresh();
    if (state.state === "signedIn") {
      this.#showSignedIn(state.account);
    } else if (this.#subject !== null || this.#signedOut === null) {
      this.#subject = null;
      this.#signedIn = null;
      const view = this.#showSignedOut();
      this.#whenFirstFrameShown(() => {
        view.focus();
      });
    }
  }

  #showSignedOut(): SignedOutView {
    if (this.#signedOut !== null && this.#main.contains(this.#signedOut.root)) return this.#signedOut;
    this.#subject = null;
    this.#signedIn = null;
    const view = new SignedOutView({
      signIn: () => void this.#signIn(),
      cancel: () => void api.cancelSignIn().catch(() => undefined),
      removeUnconfigured: () => void this.#removeUnconfigured(),
    });
    this.#signedOut = view;
    this.#main.replaceChildren(view.root);
    this.#whenFirstFrameShown(() => {
      void api.environment().then((environment) => {
        if (environment.devMailbox !== null) view.showEmulatorHint(environment.devMailbox);
      }, () => undefined);
      this.#showUnconfiguredSignedOut();
    });
    return view;
  }

  /** Signs in (to `environment` when adding another account); the new account becomes current. */
  async #signIn(environment?: string): Promise<void> {
    if (this.#signingIn) return;
    this.#signingIn = true;
    this.#notices.clear();
    this.#showSignedOut().showWaiting(null);
    const waitingBefore = this.#waitingEvents;
    try {
      const account = await api.signIn(environment);
      this.#showSignedIn(account);
      void this.#switcher?.refresh();
    } catch (caught) {
      const error = api.toUiError(caught);
      // A sign-in started from a deep link replaces this one: keep showing its progress.
      const replaced = error.kind === "cancelled" && this.#waitingEvents > waitingBefore + 1;
      if (this.#subject === null && !replaced) this.#signedOut?.showIdle();
      if (error.kind !== "cancelled") this.#notices.show(error.message, "error");
      // Adding another account failed: the current one, if any, is still signed in.
      if (environment !== undefined && !replaced) await this.#loadSession();
    } finally {
      this.#signingIn = false;
    }
  }

  #showSignedIn(account: Account): void {
    const shown = `${account.environment} ${account.subject}`;
    if (this.#subject === shown && this.#signedIn !== null) return;
    this.#subject = shown;
    this.#signedOut = null;
    const view = new SignedInView(account, {
      signOut: () => void this.#signOut(),
      addPasskey: () => void this.#addPasskey(),
      retry: () => void this.#loadPasskeys(),
      told: (message) => {
        this.#notices.show(message);
      },
      rename: (passkey, name) => this.#rename(passkey, name),
      remove: (passkey, removeButton) => void this.#remove(passkey, removeButton),
      failed: (error) => {
        this.#handleError(error);
      },
    });
    this.#signedIn = view;
    this.#main.replaceChildren(view.root);
    this.#whenFirstFrameShown(() => {
      view.focus();
      void api.environment().then((environment) => {
        view.showEnvironment(environment);
      }, () => undefined);
      void this.#loadPasskeys();
    });
  }

  async #loadPasskeys(): Promise<void> {
    const view = this.#signedIn;
    if (view === null || this.#loadingList === view) return;
    this.#loadingList = view;
    view.showLoading();
    // Marks for the benchmarks (read with `performance.getEntriesByName`): call to list on screen.
    performance.mark("list-passkeys-start");
    try {
      const passkeys = await api.listPasskeys();
      if (view === this.#signedIn && !view.isEditing) {
        view.showPasskeys(passkeys);
        performance.measure("list-passkeys-rendered", "list-passkeys-start");
      }
      if (view === this.#signedIn) void view.sessions.refresh();
    } catch (caught) {
      const error = api.toUiError(caught);
      if (!this.#signOutOn(error) && view === this.#signedIn) view.showError(error);
    } finally {
      if (this.#loadingList === view) this.#loadingList = null;
    }
  }

  #refreshOnFocus(): void {
    // Before the first frame the list's first load is already queued.
    if (this.#afterFirstFrame !== null) return;
    const view = this.#signedIn;
    if (view === null || view.isEditing || document.querySelector("dialog[open]") !== null) return;
    void this.#loadPasskeys();
  }

  async #rename(passkey: Passkey, name: string): Promise<Passkey> {
    const renamed = await api.renamePasskey(passkey.id, name);
    this.#notices.show(`Renamed to “${passkeyTitle(renamed)}”.`);
    return renamed;
  }

  async #remove(passkey: Passkey, removeButton: HTMLButtonElement): Promise<void> {
    const view = this.#signedIn;
    if (view === null) return;
    const name = passkeyTitle(passkey);
    const confirmed = await confirmRemoval(
      { passkeyName: name, whereItStays: whereItStays(passkey), isLast: view.count === 1 },
      removeButton,
    );
    if (!confirmed) return;
    try {
      const removal = await withStepUp(`remove “${name}”`, () => api.removePasskey(passkey.id), removeButton);
      if (removal.done) {
        this.#notices.show(`Removed “${name}”. ${stillSavedIn(passkey)}`);
      } else {
        this.#notices.show(`Nothing was removed: “${name}” is still here.`);
      }
    } catch (caught) {
      this.#handleError(api.toUiError(caught));
    }
    await this.#loadPasskeys();
  }

  async #addPasskey(): Promise<void> {
    try {
      await api.addPasskey();
      this.#notices.show("Add your passkey in the browser. The list updates when you come back.");
    } catch (caught) {
      this.#handleError(api.toUiError(caught));
    }
  }

  /** A sign-in link while signed in: sign in again only if the person says so. */
  async #confirmSignInLink(account: Account): Promise<void> {
    const who = account.email ?? account.name ?? account.subject;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!(await confirmSignInAgain(who, focused))) return;
    await this.#signIn();
    // Cancelled or failed, the account before is still signed in: show what is.
    await this.#loadSession();
  }

  /** Signs the current account out; another signed-in account, if any, is shown next. */
  async #signOut(): Promise<void> {
    try {
      await api.signOut();
    } catch (caught) {
      this.#notices.show(api.toUiError(caught).message, "error");
    }
    if (!(await this.#loadSession())) this.#showSession({ state: "signedOut" });
  }

  /** Signed out behind our back (expired, revoked): back to "Sign in" with the reason. */
  #signOutOn(error: UiError): boolean {
    if (error.kind !== "signInRequired" && error.kind !== "sessionExpired") return false;
    this.#showSession({ state: "signedOut" });
    this.#notices.show(error.message, "error");
    return true;
  }

  #handleError(error: UiError): void {
    if (!this.#signOutOn(error)) this.#notices.show(explain(error), "error");
  }

  #showFatal(error: UiError): void {
    this.#main.setAttribute("aria-busy", "false");
    this.#subject = null;
    this.#signedIn = null;
    this.#signedOut = null;
    const retry = button("Retry", () => void this.#loadSession(), { testId: "retry" });
    this.#main.replaceChildren(
      h(
        "div",
        { className: "state state-error", attrs: { role: "alert" } },
        h("h1", {}, fatalTitle(error)),
        h("p", { testId: "error-message" }, explain(error)),
        h("div", { className: "actions" }, retry),
      ),
    );
    retry.focus();
  }
}

function fatalTitle(error: UiError): string {
  switch (error.kind) {
    case "keychain":
      return "Your keychain is not available";
    case "config":
      return "The app's configuration needs a fix";
    default:
      return "The app could not start";
  }
}

const diagnoseButton = document.getElementById("diagnose-button");
diagnoseButton?.addEventListener("click", () => {
  void openDiagnose(diagnoseButton);
});

const main = document.getElementById("main");
const region = document.getElementById("notices");
if (main !== null && region !== null) {
  void new App(main, new Notices(region), document.getElementById("account-switcher")).start().catch((caught: unknown) => {
    main.replaceChildren(h("p", { testId: "error-message" }, api.toUiError(caught).message));
  });
}
