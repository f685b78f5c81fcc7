/** The notices area: short messages read out by screen readers (aria-live). */
import { h } from "./dom.js";

/** How a notice looks: information, or a failure. */
export type NoticeTone = "info" | "error";

/**
 * Shows notices in the live region with the id `notices`: one at a time, the
 * newest, so that an outcome never sits under an earlier one it contradicts
 * ("Nothing was removed", then "Removed").
 */
export class Notices {
  readonly #region: HTMLElement;

  constructor(region: HTMLElement) {
    this.#region = region;
  }

  /** Shows a message in place of the one shown before. */
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
    this.#region.replaceChildren(notice);
  }

  /** Removes every notice. */
  clear(): void {
    this.#region.replaceChildren();
  }
}
