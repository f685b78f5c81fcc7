/**
 * The "Diagnose" panel: the doctor's checks, each with a plain verdict and,
 * when it is not right, the one thing to do, or a Fix button when the app
 * can repair it itself (the link scheme's registration).
 */
import * as api from "./api.js";
import type { DoctorCheck, DoctorReport, Repair, Verdict } from "./api.js";
import { button, h } from "./dom.js";

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

/** What a check offers: a repair the app makes itself (a Fix button), else the thing to do in words, else nothing. */
export type Remedy = { kind: "repair"; repair: Repair } | { kind: "todo"; text: string } | { kind: "none" };

/** The remedy a check offers: a repair instead of the command its `fix` names, when the app can make it. */
export function remedyOf(check: DoctorCheck): Remedy {
  if (check.verdict === "ok") return { kind: "none" };
  if (check.repair !== undefined) return { kind: "repair", repair: check.repair };
  if (check.fix !== undefined) return { kind: "todo", text: check.fix };
  return { kind: "none" };
}

/** Each repair's command: it repairs, then answers the doctor's report after it. */
const REPAIRS: Readonly<Record<Repair, () => Promise<DoctorReport>>> = {
  registerScheme: api.fixLinkScheme,
};

/** Makes `repair` (the same code as `passkeys-desktop doctor --fix`) and answers the new report. */
export function runRepair(repair: Repair): Promise<DoctorReport> {
  return REPAIRS[repair]();
}

function remedyLine(check: DoctorCheck, body: HTMLElement): HTMLElement | false {
  const remedy = remedyOf(check);
  switch (remedy.kind) {
    case "none":
      return false;
    case "todo":
      return h("div", { className: "check-fix" }, h("strong", {}, "To do: "), remedy.text);
    case "repair": {
      const fix = button(
        "Fix",
        () => {
          fix.disabled = true;
          void show(body, runRepair(remedy.repair));
        },
        { size: "small", testId: "diagnose-fix", label: `Fix: ${checkTitle(check)}` },
      );
      return h("div", { className: "check-fix" }, fix);
    }
  }
}

function checkItem(check: DoctorCheck, body: HTMLElement): HTMLElement {
  return h(
    "li",
    { className: `check check-${check.verdict}`, testId: "diagnose-check" },
    h("span", { className: "check-verdict" }, VERDICT_WORDS[check.verdict]),
    h(
      "div",
      {},
      h("div", { className: "check-title" }, checkTitle(check)),
      h("div", { className: "check-detail" }, check.detail),
      remedyLine(check, body),
    ),
  );
}

/** Shows the report `running` answers (or its error) in `body`, "Checking…" meanwhile. */
async function show(body: HTMLElement, running: Promise<DoctorReport>): Promise<void> {
  body.setAttribute("aria-busy", "true");
  body.replaceChildren(h("p", { className: "state", testId: "diagnose-running" }, "Checking…"));
  let content: HTMLElement[];
  try {
    const report = await running;
    content = [
      h("p", { className: `diagnose-summary check-${report.verdict}`, testId: "diagnose-summary" }, summary(report)),
      h(
        "ul",
        { className: "checks", testId: "diagnose-report", attrs: { "aria-label": "Checks" } },
        ...report.checks.map((check) => checkItem(check, body)),
      ),
    ];
  } catch (caught) {
    content = [h("p", { className: "state state-error", testId: "diagnose-error" }, api.toUiError(caught).message)];
  }
  body.replaceChildren(...content);
  body.setAttribute("aria-busy", "false");
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
  const running = api.diagnose();
  const shown = show(body, running);
  dialog.showModal();
  dialog.querySelector<HTMLButtonElement>("[data-testid=diagnose-close]")?.focus();
  await shown;
}
