/** The "Diagnose" panel: the doctor's checks, each with a plain verdict and, when it is not right, the one thing to do. */
import * as api from "./api.js";
import type { DoctorCheck, DoctorReport, Verdict } from "./api.js";
import { h } from "./dom.js";

/** What each check is about, in words. */
const CHECK_TITLES: Readonly<Record<string, string>> = {
  config: "Configuration",
  keychain: "Keychain",
  scheme: "Sign-in links",
  environment: "Environment",
  broker: "Passkeys broker",
  clock: "Clock",
  loopback: "Sign-in return port",
};

/** The verdicts in words. */
export const VERDICT_WORDS: Readonly<Record<Verdict, string>> = {
  ok: "OK",
  warn: "Warning",
  fail: "Problem",
};

/** The title of a check, with its subject when it has one. */
export function checkTitle(check: DoctorCheck): string {
  const title = CHECK_TITLES[check.name] ?? check.name;
  return check.subject === undefined ? title : `${title} (${check.subject})`;
}

/** The summary line of a report. */
export function summary(report: DoctorReport): string {
  switch (report.verdict) {
    case "ok":
      return "Everything looks right.";
    case "warn":
      return "It works, with warnings below.";
    case "fail":
      return "Something needs a fix: see below.";
  }
}

function checkItem(check: DoctorCheck): HTMLElement {
  return h(
    "li",
    { className: `check check-${check.verdict}`, testId: "diagnose-check" },
    h("span", { className: "check-verdict" }, VERDICT_WORDS[check.verdict]),
    h(
      "div",
      {},
      h("div", { className: "check-title" }, checkTitle(check)),
      h("div", { className: "check-detail" }, check.detail),
      check.fix !== undefined ? h("div", { className: "check-fix" }, h("strong", {}, "To do: "), check.fix) : false,
    ),
  );
}

/**
 * Opens the panel and runs the checks; Close or Escape closes it and focus
 * returns to `returnFocus`.
 */
export async function openDiagnose(returnFocus: HTMLElement | null): Promise<void> {
  const dialog = document.getElementById("diagnose-dialog");
  const body = document.getElementById("diagnose-body");
  if (!(dialog instanceof HTMLDialogElement) || body === null) return;
  dialog.addEventListener("close", () => returnFocus?.focus(), { once: true });
  body.setAttribute("aria-busy", "true");
  body.replaceChildren(h("p", { className: "state", testId: "diagnose-running" }, "Checking…"));
  dialog.showModal();
  dialog.querySelector<HTMLButtonElement>("[data-testid=diagnose-close]")?.focus();
  let content: HTMLElement[];
  try {
    const report = await api.diagnose();
    content = [
      h("p", { className: `diagnose-summary check-${report.verdict}`, testId: "diagnose-summary" }, summary(report)),
      h("ul", { className: "checks", testId: "diagnose-report", attrs: { "aria-label": "Checks" } }, ...report.checks.map(checkItem)),
    ];
  } catch (caught) {
    content = [h("p", { className: "state state-error", testId: "diagnose-error" }, api.toUiError(caught).message)];
  }
  body.replaceChildren(...content);
  body.setAttribute("aria-busy", "false");
}
