/** The confirmation before a passkey is removed (a native modal `<dialog>`). */
import { h } from "./dom.js";

/** What the confirmation names. */
export interface RemovalQuestion {
  passkeyName: string;
  providerName: string;
  isLast: boolean;
}

/**
 * Asks whether to remove a passkey. Resolves true on "Remove"; false on
 * "Cancel" or Escape. Focus starts on "Cancel" and returns to `returnFocus`.
 */
export function confirmRemoval(question: RemovalQuestion, returnFocus: HTMLElement | null): Promise<boolean> {
  const dialog = document.getElementById("confirm-dialog");
  const title = document.getElementById("confirm-title");
  const body = document.getElementById("confirm-body");
  if (!(dialog instanceof HTMLDialogElement) || title === null || body === null) {
    return Promise.resolve(false);
  }
  title.textContent = `Remove “${question.passkeyName}”?`;
  body.replaceChildren(
    h(
      "p",
      {},
      "You will no longer be able to sign in with this passkey. It stays in ",
      question.providerName,
      " until you delete it there too.",
    ),
  );
  if (question.isLast) {
    body.appendChild(
      h(
        "p",
        { className: "dialog-warning", testId: "last-passkey-warning" },
        "This is your last passkey. After removing it you will sign in another way, such as an email code.",
      ),
    );
  }
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        resolve(dialog.returnValue === "confirm");
        returnFocus?.focus();
      },
      { once: true },
    );
    dialog.showModal();
    dialog.querySelector<HTMLButtonElement>("[data-testid=confirm-cancel]")?.focus();
  });
}
