/** Confirmations in the app's one native modal `<dialog>`: removing a passkey, signing in as another account. */
import { h } from "./dom.js";

/** What a confirmation shows. */
interface Question {
  title: string;
  body: HTMLElement[];
  confirmLabel: string;
  /** `data-testid` of the confirm button. */
  confirmTestId: string;
  danger: boolean;
}

/**
 * Asks `question`. Resolves true on the confirm button; false on "Cancel" or
 * Escape. Focus starts on "Cancel" and returns to `returnFocus`.
 */
function ask(question: Question, returnFocus: HTMLElement | null): Promise<boolean> {
  const dialog = document.getElementById("confirm-dialog");
  const title = document.getElementById("confirm-title");
  const body = document.getElementById("confirm-body");
  const confirm = dialog?.querySelector<HTMLButtonElement>("button[value=confirm]");
  if (!(dialog instanceof HTMLDialogElement) || title === null || body === null || confirm == null) {
    return Promise.resolve(false);
  }
  title.textContent = question.title;
  body.replaceChildren(...question.body);
  confirm.textContent = question.confirmLabel;
  confirm.dataset.testid = question.confirmTestId;
  confirm.classList.toggle("button-danger", question.danger);
  confirm.classList.toggle("button-primary", !question.danger);
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

/**
 * Asks before signing in again after a `<scheme>://sign-in` link that
 * someone else may have opened: the person is signed in as `who`.
 */
export function confirmSignInAgain(who: string, returnFocus: HTMLElement | null): Promise<boolean> {
  return ask(
    {
      title: "Sign in as another account?",
      body: [
        h("p", {}, "A link asked this app to sign in. You are signed in as ", h("strong", {}, who), "."),
        h("p", {}, "If you did not open such a link, stay signed in: nothing changes."),
      ],
      confirmLabel: "Sign in again",
      confirmTestId: "confirm-sign-in-again",
      danger: false,
    },
    returnFocus,
  );
}

/** What the confirmation names. */
export interface RemovalQuestion {
  passkeyName: string;
  /** Where the passkey stays ("in iCloud Keychain", "on the security key", …): `whereItStays`. */
  whereItStays: string;
  isLast: boolean;
}

/**
 * Asks whether to remove a passkey. Resolves true on "Remove"; false on
 * "Cancel" or Escape. Focus starts on "Cancel" and returns to `returnFocus`.
 */
export function confirmRemoval(question: RemovalQuestion, returnFocus: HTMLElement | null): Promise<boolean> {
  const body = [
    h(
      "p",
      {},
      "You will no longer be able to sign in with this passkey. It stays ",
      question.whereItStays,
      " until you delete it there too.",
    ),
  ];
  if (question.isLast) {
    body.push(
      h(
        "p",
        { className: "dialog-warning", testId: "last-passkey-warning" },
        "This is your last passkey. After removing it you will sign in another way, such as an email code.",
      ),
    );
  }
  return ask(
    {
      title: `Remove “${question.passkeyName}”?`,
      body,
      confirmLabel: "Remove",
      confirmTestId: "confirm-remove",
      danger: true,
    },
    returnFocus,
  );
}

/**
 * Asks before the browser opens to confirm it is the person: the passkeys
 * broker wants a recent sign-in before `action` (e.g. `remove “Work laptop”`).
 * Resolves true on "Continue in browser"; false on "Cancel" or Escape.
 */
export function confirmItsYou(action: string, returnFocus: HTMLElement | null): Promise<boolean> {
  return ask(
    {
      title: `Confirm it's you to ${action}`,
      body: [
        h(
          "p",
          { testId: "step-up-reason" },
          "For your safety, this needs a recent sign-in. Sign in again in your browser, then it goes ahead.",
        ),
        h("p", {}, "Nothing changes until you do."),
      ],
      confirmLabel: "Continue in browser",
      confirmTestId: "confirm-step-up",
      danger: false,
    },
    returnFocus,
  );
}

/**
 * While the browser confirms it is the person: the dialog says so, with
 * "Cancel" only. `cancel` runs on "Cancel" or Escape. Returns a function
 * that closes the dialog without cancelling (the browser came back).
 */
export function waitForBrowser(action: string, cancel: () => void, returnFocus: HTMLElement | null): () => void {
  const dialog = document.getElementById("confirm-dialog");
  const title = document.getElementById("confirm-title");
  const body = document.getElementById("confirm-body");
  const confirm = dialog?.querySelector<HTMLButtonElement>("button[value=confirm]");
  if (!(dialog instanceof HTMLDialogElement) || title === null || body === null || confirm == null) {
    return () => undefined;
  }
  title.textContent = `Confirm it's you to ${action}`;
  body.replaceChildren(
    h("p", { testId: "step-up-waiting", attrs: { role: "status" } }, "Finish signing in in your browser…"),
  );
  confirm.hidden = true;
  let finished = false;
  dialog.addEventListener(
    "close",
    () => {
      confirm.hidden = false;
      if (!finished) cancel();
      returnFocus?.focus();
    },
    { once: true },
  );
  dialog.showModal();
  dialog.querySelector<HTMLButtonElement>("[data-testid=confirm-cancel]")?.focus();
  return () => {
    finished = true;
    if (dialog.open) dialog.close();
  };
}
