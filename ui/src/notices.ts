/** The notices area: short messages read out by screen readers (aria-live). */
import { h } from "./dom.js";

/** How a notice looks: information, or a failure. */
export type NoticeTone = "info" | "error";

const MAX_NOTICES = 3;

/** Shows notices in the live region with the id `notices`. */
export class Notices {
  readonly #region: HTMLElement;

  constructor(region: HTMLElement) {
    this.#region = region;
  }

  /** Shows a message; the oldest goes when more than three are shown. */
  show(message: string, tone: NoticeTone = "info"): void {
    const close = h("button", {
      className: "notice-close",
      attrs: { type: "button", "aria-label": "Dismiss" },
    }, "×");
    const notice = h(
      "div",
      { className: tone === "error" ? "notice notice-error" : "notice", testId: "notice" },
      h("span", { testId: "notice-text" }, message),
      close,
    );
    close.addEventListener("click", () => {
      notice.remove();
    });
    this.#region.appendChild(notice);
    while (this.#region.childElementCount > MAX_NOTICES) {
      this.#region.firstElementChild?.remove();
    }
  }

  /** Removes every notice. */
  clear(): void {
    this.#region.replaceChildren();
  }
}
