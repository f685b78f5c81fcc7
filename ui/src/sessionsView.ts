/** "Where you're signed in": the person's sessions, with Sign out per session and "Sign out everywhere else". */
import * as api from "./api.js";
import type { SignedInSession, UiError } from "./api.js";
import { button, h } from "./dom.js";
import { localeDate } from "./format.js";
import { withStepUp } from "./stepUp.js";

/** What the section asks of the app. */
export interface SessionsActions {
  /** Says what happened (a notice). */
  told: (message: string) => void;
  /** A failure the app handles (signed out, offline …). */
  failed: (error: UiError) => void;
}

/** "Chrome on Linux": the device a session runs in, or a generic name. */
export function sessionDevice(session: SignedInSession): string {
  const { browser, os } = session;
  if (browser !== null && os !== null) return `${browser} on ${os}`;
  return browser ?? os ?? "Unknown device";
}

/** The line under a session's device: place and last activity. */
export function sessionDetails(session: SignedInSession): string {
  const parts: string[] = [];
  if (session.location !== null) parts.push(session.location);
  const last = localeDate(session.lastActiveAt);
  if (last !== null) parts.push(`last active ${last}`);
  return parts.join(" · ");
}

/** The sessions worth showing: the active ones, this app's first. */
export function shownSessions(sessions: readonly SignedInSession[]): SignedInSession[] {
  return sessions
    .filter((session) => session.status === "active")
    .sort((a, b) => Number(b.current) - Number(a.current));
}

/** The section; `refresh` loads the list again. */
export class SessionsSection {
  readonly root: HTMLElement;
  readonly #body: HTMLElement;
  readonly #actions: SessionsActions;
  #busy = false;

  constructor(actions: SessionsActions) {
    this.#actions = actions;
    this.#body = h("div", { testId: "sessions", attrs: { "aria-live": "polite", "aria-busy": "true" } });
    this.root = h(
      "section",
      { className: "box", testId: "sessions-section", attrs: { "aria-labelledby": "sessions-title" } },
      h("div", { className: "box-header" }, h("h2", { attrs: { id: "sessions-title" } }, "Where you're signed in")),
      this.#body,
    );
    this.#body.replaceChildren(h("p", { className: "state" }, "Loading your sessions…"));
  }

  /** Loads and shows the sessions; without a passkeys broker the section hides. */
  async refresh(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#show(await api.listSessions());
    } catch (caught) {
      const error = api.toUiError(caught);
      if (error.kind === "passkeysBrokerMissing") {
        this.root.hidden = true;
      } else {
        this.#showError(error);
      }
    } finally {
      this.#busy = false;
      this.#body.setAttribute("aria-busy", "false");
    }
  }

  #show(sessions: SignedInSession[]): void {
    this.root.hidden = false;
    const shown = shownSessions(sessions);
    const others = shown.filter((session) => !session.current);
    const rows = shown.map((session) => this.#row(session));
    const list = h("ul", { className: "sessions", attrs: { "aria-label": "Sessions" } }, ...rows);
    const everywhere =
      others.length > 0 &&
      h(
        "div",
        { className: "actions sessions-actions" },
        button("Sign out everywhere else", () => void this.#signOutOthers(), { testId: "sign-out-others" }),
      );
    this.#body.replaceChildren(list, ...(everywhere === false ? [] : [everywhere]));
  }

  #row(session: SignedInSession): HTMLElement {
    const device = sessionDevice(session);
    const details = sessionDetails(session);
    const row = h(
      "li",
      { className: "session", testId: "session-row" },
      h(
        "div",
        {},
        h(
          "div",
          { className: "session-device", testId: "session-device" },
          device,
          session.current && h("span", { className: "badge", testId: "this-app" }, "This app"),
        ),
        details !== "" && h("div", { className: "passkey-meta" }, details),
      ),
      !session.current &&
        button("Sign out", () => void this.#signOut(session), {
          size: "small",
          testId: "sign-out-session",
          label: `Sign out ${device}`,
        }),
    );
    row.dataset.sessionId = session.id;
    return row;
  }

  async #signOut(session: SignedInSession): Promise<void> {
    const device = sessionDevice(session);
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    try {
      const outcome = await withStepUp(`sign out ${device}`, () => api.signOutSession(session.id), focused);
      this.#actions.told(outcome.done ? `Signed out ${device}.` : `Nothing changed: ${device} is still signed in.`);
    } catch (caught) {
      this.#actions.failed(api.toUiError(caught));
    }
    await this.refresh();
  }

  async #signOutOthers(): Promise<void> {
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    try {
      const outcome = await withStepUp("sign out everywhere else", () => api.signOutOtherSessions(), focused);
      if (!outcome.done) {
        this.#actions.told("Nothing changed: your other sessions are still signed in.");
      } else {
        const count = outcome.value;
        this.#actions.told(count === 1 ? "Signed out 1 other session." : `Signed out ${String(count)} other sessions.`);
      }
    } catch (caught) {
      this.#actions.failed(api.toUiError(caught));
    }
    await this.refresh();
  }

  #showError(error: UiError): void {
    this.root.hidden = false;
    this.#body.replaceChildren(
      h(
        "div",
        { className: "state state-error" },
        h("p", { testId: "sessions-error" }, error.message),
        h("div", { className: "actions" }, button("Retry", () => void this.refresh(), { testId: "sessions-retry" })),
      ),
    );
  }
}
