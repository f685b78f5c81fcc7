/**
 * Step-up: the passkeys broker wants a recent sign-in before removing a
 * passkey or signing a session out (`reauthenticationRequired`). The window
 * says so ("Confirm it's you to remove “Work laptop”"), the browser
 * confirms, and the action runs again. Cancelled at either step, nothing
 * changes.
 */
import * as api from "./api.js";
import { confirmItsYou, waitForBrowser } from "./dialog.js";

/** How a step-up ended: done (with the action's answer) or cancelled. */
export type StepUpOutcome<T> = { done: true; value: T } | { done: false };

/**
 * Runs `action`; when it needs a recent sign-in, asks the person to confirm
 * it is them (`what` names the action, e.g. `remove “Work laptop”`), then
 * runs it once more. Other failures are thrown as `UiError`s.
 */
export async function withStepUp<T>(
  what: string,
  action: () => Promise<T>,
  returnFocus: HTMLElement | null,
): Promise<StepUpOutcome<T>> {
  try {
    return { done: true, value: await action() };
  } catch (caught) {
    const error = api.toUiError(caught);
    if (error.kind !== "reauthenticationRequired") throw error;
  }
  if (!(await confirmItsYou(what, returnFocus))) return { done: false };
  const close = waitForBrowser(what, () => void api.cancelSignIn(), returnFocus);
  try {
    await api.confirmIdentity();
  } catch (caught) {
    const error = api.toUiError(caught);
    if (error.kind === "cancelled") return { done: false };
    throw error;
  } finally {
    close();
  }
  return { done: true, value: await action() };
}
