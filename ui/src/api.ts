/**
 * The only module that talks to the Rust side of the app.
 *
 * One documented function per Tauri command, and one per event the app emits.
 * The types mirror the Rust ones (`passkeys-core` and `src-tauri/commands.rs`);
 * the command tests in `tests/commands.rs` pin the JSON shapes they rely on.
 *
 * The Tauri API is reached through `window.__TAURI__` (`app.withGlobalTauri`),
 * so the page loads no script but its own modules; the types come from
 * `@tauri-apps/api`, which is used for nothing else.
 */
import type { invoke as tauriInvoke } from "@tauri-apps/api/core";
import type { listen as tauriListen, UnlistenFn } from "@tauri-apps/api/event";
import { providerIcons } from "./icons.js";

declare global {
  interface Window {
    __TAURI__?: {
      core: { invoke: typeof tauriInvoke };
      event: { listen: typeof tauriListen };
    };
    /** Set by the app's initialization script (`src-tauri/boot.rs`): see `takeBootData`. */
    __PASSKEYS_BOOT__?: BootData;
  }
}

/** What kind of failure an error is, so the UI can act on it (`UiError.kind` in Rust). */
export type ErrorKind =
  | "signInRequired"
  | "sessionExpired"
  | "network"
  | "server"
  | "signInFailed"
  | "invalidInput"
  | "keychain"
  | "cancelled"
  | "timeout"
  | "notFound"
  | "forbidden"
  | "config"
  | "passkeysBrokerMissing"
  | "reauthenticationRequired"
  | "internal";

/** Every command fails with this shape. */
export interface UiError {
  kind: ErrorKind;
  message: string;
}

/** A failed command as a thrown value: an `Error` that is also a `UiError`. */
export class CommandError extends Error implements UiError {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** The signed-in person. */
export interface Account {
  subject: string;
  name: string | null;
  email: string | null;
  environment: string;
}

/** One account: an (environment, client, user), as the switcher shows it (`AccountSummary` in Rust). */
export interface AccountSummary {
  /** How the commands name it. */
  key: string;
  /** The environment's name in the configuration. */
  environment: string;
  environmentUrl: string;
  subject: string;
  email: string | null;
  name: string | null;
  /** The account the window acts as. */
  current: boolean;
  /** False when its environment is no longer configured: it can only be removed. */
  configured: boolean;
}

/** The answer of `list_accounts` (`AccountsOverview` in Rust). */
export interface AccountsOverview {
  accounts: AccountSummary[];
  /** The configured environments' names, which another account can sign in to. */
  environments: string[];
}

/** Whether someone is signed in. */
export type SessionState = { state: "signedOut" } | { state: "signedIn"; account: Account };

/** The authenticator a passkey lives in, from its AAGUID. */
export interface Authenticator {
  aaguid: string | null;
  name: string | null;
  /** The key of its provider's icon in `PasskeyList.icons` (and the icon cache); null: no icon. */
  iconKey: string | null;
  attachment: string | null;
}

/** A provider's icon for light and dark themes, as `data:image/…` URIs. */
export interface ProviderIcon {
  light: string | null;
  dark: string | null;
}

/** Where a passkey was registered (from the browser's user agent and the IP address). */
export interface RegisteredFrom {
  browser: string | null;
  browserVersion: string | null;
  os: string | null;
  osVersion: string | null;
  deviceType: string | null;
  city: string | null;
  region: string | null;
}

/** One passkey of the signed-in person. */
export interface Passkey {
  id: string;
  /** The person's name for it, else the provider's name, else "Passkey". */
  displayName: string;
  createdAt: string | null;
  authenticator: Authenticator;
  synced: boolean;
  deviceBound: boolean;
  transports: string[];
  registeredFrom: RegisteredFrom;
}

/** The answer of `list_passkeys`: the rows, and the icons they name that the page did not have. */
export interface PasskeyList {
  passkeys: Passkey[];
  /** By icon key; only the keys the call did not name as known. */
  icons: Record<string, ProviderIcon>;
}

/** The environment the app talks to, for the account view. */
export interface Environment {
  url: string;
  redirect: string;
  embeddedEmulator: boolean;
  /** The passkeys broker the app's passkeys calls go to; `null` when none is configured. */
  passkeysApi: string | null;
  /** The built-in emulator's dev mailbox (where its sign-in codes show up, behind a per-start key); `null` otherwise. */
  devMailbox: string | null;
}

/** One place the person is signed in (`SignedInSession` in Rust). */
export interface SignedInSession {
  id: string;
  /** The session this app signed in with. */
  current: boolean;
  /** `active`, `expired`, `revoked` or `logout`. */
  status: string;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  /** Approximate place, "City, Region". */
  location: string | null;
  createdAt: string | null;
  lastActiveAt: string | null;
}

/** A doctor check's verdict. */
export type Verdict = "ok" | "warn" | "fail";

/** A repair the app can make itself (`Repair` in Rust): the Diagnose panel offers a Fix button. */
export type Repair = "registerScheme";

/** One check of the doctor (`Check` in Rust). */
export interface DoctorCheck {
  /** `config`, `keychain`, `scheme`, `environment`, `broker`, `clock` or `loopback`. */
  name: string;
  /** The environment or broker URL, when there can be several. */
  subject?: string;
  verdict: Verdict;
  detail: string;
  /** The one thing to do, when the verdict is not `ok`. */
  fix?: string;
  /** A repair the app can make itself, instead of the command `fix` names. */
  repair?: Repair;
}

/** Everything the doctor found (`Report` in Rust); `settings` are for the command line's report. */
export interface DoctorReport {
  verdict: Verdict;
  checks: DoctorCheck[];
  settings: unknown[];
}

/** How a sign-in is going: waiting for the browser (with the link), then completing. */
export type SignInProgress =
  | { stage: "waitingForBrowser"; authorizeUrl: string; browserOpened: boolean }
  | { stage: "completingSignIn" };

/** A message for the person, from the Rust side (for example a refused deep link). */
export interface Notice {
  message: string;
}

function tauri(): NonNullable<Window["__TAURI__"]> {
  const api = window.__TAURI__;
  if (api === undefined) {
    throw new CommandError("internal", "The app's bridge is missing: this page only works inside the app.");
  }
  return api;
}

/** Turns whatever a failed call threw into a `CommandError`. */
export function toUiError(error: unknown): CommandError {
  if (error instanceof CommandError) return error;
  if (typeof error === "object" && error !== null && "kind" in error && "message" in error) {
    const { kind, message } = error;
    if (typeof kind === "string" && typeof message === "string") {
      return new CommandError(kind as ErrorKind, message);
    }
  }
  return new CommandError("internal", typeof error === "string" ? error : "Something went wrong.");
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await tauri().core.invoke<T>(command, args);
  } catch (error) {
    throw toUiError(error);
  }
}

/**
 * What the app read before the page started (`BootData` in Rust): the
 * `session` command's answer or the error it fails with.
 */
export type BootData = { session: SessionState } | { error: UiError };

/**
 * The session the app handed to the page before its script ran, so the first
 * view needs no round trip; null when the app opened the window without it
 * (the session took too long) or it was taken already. Taking it removes it.
 */
export function takeBootData(): BootData | null {
  const boot = window.__PASSKEYS_BOOT__;
  delete window.__PASSKEYS_BOOT__;
  return boot ?? null;
}

/** The current session, read from the keychain. */
export function session(): Promise<SessionState> {
  return call("session");
}

/**
 * Opens the browser to sign in and resolves with the account when the
 * sign-in completes; the new account becomes the current one. `environment`
 * names the configured environment (default: the current account's, else
 * the first).
 */
export function signIn(environment?: string): Promise<Account> {
  return call("sign_in", environment === undefined ? {} : { environment });
}

/** Every account (the current one marked) and the environments to sign in to; no network. */
export function listAccounts(): Promise<AccountsOverview> {
  return call("list_accounts");
}

/** Makes the account `key` the current one, at once (no network); resolves with the session. */
export function switchAccount(key: string): Promise<SessionState> {
  return call("switch_account", { key });
}

/** Signs the account `key` out, leaving the others; resolves with the session now. */
export function signOutAccount(key: string): Promise<SessionState> {
  return call("sign_out_account", { key });
}

/** Removes the keychain entries of accounts whose environment is no longer configured. */
export function removeUnconfiguredAccounts(): Promise<AccountSummary[]> {
  return call("remove_unconfigured_accounts");
}

/**
 * Confirms it is the signed-in person: a new sign-in in the browser, as the
 * passkeys broker asks before a removal (`reauthenticationRequired`).
 * `cancelSignIn()` stops it.
 */
export function confirmIdentity(): Promise<Account> {
  return call("confirm_identity");
}

/** Stops waiting for a sign-in; the pending `signIn()` rejects with `cancelled`. */
export function cancelSignIn(): Promise<void> {
  return call("cancel_sign_in");
}

/** Signs the current account out: revokes its session, forgets its tokens, signs out in the browser; another account, if any, becomes current. */
export function signOut(): Promise<void> {
  return call("sign_out");
}

/**
 * The passkeys of the signed-in person. Names the icons the page already has
 * (`providerIcons`), so the answer carries only new ones, and keeps those in
 * `providerIcons` for the rows.
 */
export async function listPasskeys(): Promise<PasskeyList> {
  const list = await call<PasskeyList>("list_passkeys", { knownIcons: providerIcons.keys() });
  providerIcons.add(list.icons);
  return list;
}

/** Renames a passkey (1 to 120 characters) and returns it as stored. */
export function renamePasskey(id: string, name: string): Promise<Passkey> {
  return call("rename_passkey", { id, name });
}

/** Removes a passkey. */
export function removePasskey(id: string): Promise<void> {
  return call("remove_passkey", { id });
}

/** Opens the environment's passkey page in the browser, where a passkey is added. */
export function addPasskey(): Promise<void> {
  return call("add_passkey");
}

/** The environment the app talks to. */
export function environment(): Promise<Environment> {
  return call("environment");
}

/** Where the person is signed in, through the passkeys broker. */
export function listSessions(): Promise<SignedInSession[]> {
  return call("list_sessions");
}

/** Signs out one of the person's other sessions. */
export function signOutSession(id: string): Promise<void> {
  return call("sign_out_session", { id });
}

/** Signs out every other session; resolves with how many. */
export function signOutOtherSessions(): Promise<number> {
  return call("sign_out_other_sessions");
}

/** Runs the doctor: the keychain, the link scheme, the configuration, the environment and its broker, the clock. */
export function diagnose(): Promise<DoctorReport> {
  return call("diagnose");
}

/**
 * Registers the link scheme for this app, as `passkeys-desktop doctor --fix`
 * does (the same code), and runs the doctor again: the Fix of a check whose
 * `repair` is `registerScheme`.
 */
export function fixLinkScheme(): Promise<DoctorReport> {
  return call("fix_link_scheme");
}

/** Tells the app that the first view is on screen with the session state known. */
export function appReady(): Promise<void> {
  return call("app_ready");
}

/** Calls `handler` as a sign-in goes on (also one the app started from a deep link). */
export function onSignInProgress(handler: (progress: SignInProgress) => void): Promise<UnlistenFn> {
  return tauri().event.listen<SignInProgress>("sign-in-progress", (event) => {
    handler(event.payload);
  });
}

/** Calls `handler` when the session changes outside a call the UI made (a deep link, expiry). */
export function onSessionChanged(handler: (state: SessionState) => void): Promise<UnlistenFn> {
  return tauri().event.listen<SessionState>("session-changed", (event) => {
    handler(event.payload);
  });
}

/** A `<scheme>://sign-in` link arrived while someone is signed in (the window asks first). */
export interface SignInLink {
  account: Account;
}

/** Calls `handler` when a sign-in link arrives while someone is signed in. */
export function onSignInLink(handler: (link: SignInLink) => void): Promise<UnlistenFn> {
  return tauri().event.listen<SignInLink>("sign-in-link", (event) => {
    handler(event.payload);
  });
}

/** Calls `handler` with each notice the app sends. */
export function onNotice(handler: (notice: Notice) => void): Promise<UnlistenFn> {
  return tauri().event.listen<Notice>("notice", (event) => {
    handler(event.payload);
  });
}

/** Calls `handler` when the window gains focus (to refresh what the browser may have changed). */
export function onWindowFocus(handler: () => void): Promise<UnlistenFn> {
  return tauri().event.listen("tauri://focus", () => {
    handler();
  });
}
