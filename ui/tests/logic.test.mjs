// Unit tests of the UI's pure logic, on the compiled modules (run `npm test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkPasskeyName, MAX_NAME_LENGTH } from "../build/modules/validation.js";
import { localeDate, passkeyTitle, providerName, registeredWhere } from "../build/modules/format.js";

test("passkey names: trimmed, 1 to 120 characters, no control characters", () => {
  const table = [
    ["Laptop", { ok: true, name: "Laptop" }],
    ["  Work key  ", { ok: true, name: "Work key" }],
    ["a".repeat(MAX_NAME_LENGTH), { ok: true, name: "a".repeat(MAX_NAME_LENGTH) }],
    ["🔑".repeat(MAX_NAME_LENGTH), { ok: true, name: "🔑".repeat(MAX_NAME_LENGTH) }],
  ];
  for (const [input, expected] of table) {
    assert.deepEqual(checkPasskeyName(input), expected, input);
  }
  for (const input of ["", "   ", "a".repeat(MAX_NAME_LENGTH + 1), "tab\there", "line\nbreak", "bell\u0007", "c1\u0085"]) {
    const check = checkPasskeyName(input);
    assert.equal(check.ok, false, JSON.stringify(input));
    assert.ok(check.message.length > 0);
  }
  assert.match(checkPasskeyName("a".repeat(121)).message, /121/);
});

const passkey = (overrides = {}) => ({
  id: "wac_1",
  displayName: "My key",
  createdAt: "2025-02-15T06:23:44.560Z",
  authenticator: { aaguid: null, name: "iCloud Keychain", iconLight: null, iconDark: null, attachment: "platform" },
  synced: true,
  deviceBound: false,
  transports: ["internal"],
  registeredFrom: { browser: "Safari", browserVersion: null, os: "macOS", osVersion: null, deviceType: null, city: "Berlin", region: null },
  ...overrides,
});

test("titles and providers fall back to generic names", () => {
  assert.equal(passkeyTitle(passkey()), "My key");
  assert.equal(passkeyTitle(passkey({ displayName: "  " })), "iCloud Keychain");
  const anonymous = passkey({ displayName: "", authenticator: { aaguid: null, name: null, iconLight: null, iconDark: null, attachment: null } });
  assert.equal(passkeyTitle(anonymous), "Passkey");
  assert.equal(providerName(anonymous), "Unknown provider");
});

test("where a passkey was registered", () => {
  assert.equal(registeredWhere(passkey()), "Safari on macOS, Berlin");
  const from = (values) => passkey({ registeredFrom: { ...passkey().registeredFrom, ...values } });
  assert.equal(registeredWhere(from({ os: null })), "Safari, Berlin");
  assert.equal(registeredWhere(from({ city: null, region: "Bavaria" })), "Safari on macOS, Bavaria");
  assert.equal(registeredWhere(from({ browser: null, os: null, city: null })), null);
});

test("dates in the locale, nothing for a missing or broken date", () => {
  assert.ok(localeDate("2025-02-15T06:23:44.560Z")?.includes("2025"));
  assert.equal(localeDate(null), null);
  assert.equal(localeDate("not a date"), null);
});

test("backup posture and transports in words", async () => {
  const { backupPosture, BACKUP_LABELS, transportsInWords, allDeviceBound } = await import("../build/modules/format.js");
  const synced = passkey({ synced: true, deviceBound: false, transports: ["internal", "hybrid"] });
  const waiting = passkey({ synced: false, deviceBound: false, transports: [] });
  const bound = passkey({ synced: false, deviceBound: true, transports: ["usb", "nfc", "usb", "carrier-pigeon"] });
  assert.equal(BACKUP_LABELS[backupPosture(synced)], "Synced");
  assert.equal(BACKUP_LABELS[backupPosture(waiting)], "Can sync, not backed up yet");
  assert.equal(BACKUP_LABELS[backupPosture(bound)], "This device only");
  assert.equal(transportsInWords(synced), "built in, phone or tablet nearby");
  assert.equal(transportsInWords(bound), "USB, NFC");
  assert.equal(transportsInWords(waiting), null);
  assert.equal(allDeviceBound([bound, bound]), true);
  assert.equal(allDeviceBound([bound, synced]), false);
  assert.equal(allDeviceBound([bound, waiting]), false);
  assert.equal(allDeviceBound([]), false);
});

test("after a removal, where the passkey is still saved and how to delete it there", async () => {
  const { stillSavedIn } = await import("../build/modules/format.js");
  const by = (name) => passkey({ authenticator: { aaguid: null, name, iconLight: null, iconDark: null, attachment: null } });
  assert.match(stillSavedIn(by("iCloud Keychain")), /still saved in iCloud Keychain: delete it there too, on an Apple device, in Settings › Passwords\./);
  assert.match(stillSavedIn(by("Google Password Manager")), /passwords\.google\.com/);
  assert.match(stillSavedIn(by("YubiKey 5 Series")), /Yubico Authenticator/);
  assert.equal(stillSavedIn(by("Acme Vault")), "It is still saved in Acme Vault: delete it there too.");
  assert.match(stillSavedIn(by(null)), /still saved on its device or in its password manager/);
  const key = passkey({ authenticator: { aaguid: null, name: null, iconLight: null, iconDark: null, attachment: "cross-platform" } });
  assert.equal(stillSavedIn(key), "The passkey itself is still saved on the security key: delete it there too.");
});

test("the removal question says where the passkey stays, with or without a known provider", async () => {
  const { whereItStays } = await import("../build/modules/format.js");
  const by = (name, attachment) => passkey({ authenticator: { aaguid: null, name, iconLight: null, iconDark: null, attachment } });
  assert.equal(whereItStays(by("iCloud Keychain", "platform")), "in iCloud Keychain");
  assert.equal(whereItStays(by(null, "platform")), "on its device or in its password manager");
  assert.equal(whereItStays(by(null, null)), "on its device or in its password manager");
  assert.equal(whereItStays(by("  ", "cross-platform")), "on the security key");
});

test("the Diagnose panel's words", async () => {
  const { checkTitle, summary, VERDICT_WORDS } = await import("../build/modules/diagnose.js");
  assert.equal(checkTitle({ name: "keychain", verdict: "ok", detail: "" }), "Keychain");
  assert.equal(checkTitle({ name: "broker", subject: "http://127.0.0.1:9", verdict: "fail", detail: "" }), "Passkeys broker (http://127.0.0.1:9)");
  assert.equal(checkTitle({ name: "something-new", verdict: "warn", detail: "" }), "something-new");
  assert.equal(summary({ verdict: "ok", checks: [], settings: [] }), "Everything looks right.");
  assert.match(summary({ verdict: "fail", checks: [], settings: [] }), /needs a fix/);
  assert.deepEqual(VERDICT_WORDS, { ok: "OK", warn: "Warning", fail: "Problem" });
});

test("sessions: device, details and which are shown", async () => {
  const { sessionDevice, sessionDetails, shownSessions } = await import("../build/modules/sessionsView.js");
  const session = (overrides = {}) => ({
    id: "ses_1", current: false, status: "active", browser: "Chrome", os: "Linux", deviceType: "desktop",
    location: "Local", createdAt: null, lastActiveAt: null, ...overrides,
  });
  assert.equal(sessionDevice(session()), "Chrome on Linux");
  assert.equal(sessionDevice(session({ browser: null })), "Linux");
  assert.equal(sessionDevice(session({ browser: null, os: null })), "Unknown device");
  assert.equal(sessionDetails(session()), "Local");
  assert.match(sessionDetails(session({ lastActiveAt: "2026-12-04T10:00:00Z" })), /^Local · last active /);
  const shown = shownSessions([session({ id: "a" }), session({ id: "b", current: true }), session({ id: "c", status: "revoked" })]);
  assert.deepEqual(shown.map((s) => s.id), ["b", "a"]);
});

test("the notice after removing accounts no longer configured counts them in words", async () => {
  const { removedAccountsMessage } = await import("../build/modules/format.js");
  assert.equal(removedAccountsMessage(1), "Removed 1 account whose environment is no longer configured.");
  assert.equal(removedAccountsMessage(3), "Removed 3 accounts whose environment is no longer configured.");
  assert.match(removedAccountsMessage(0), /nothing was removed/);
});

test("signed out, the accounts no longer configured are named, one or several", async () => {
  const { unconfiguredAccountsText } = await import("../build/modules/format.js");
  assert.equal(unconfiguredAccountsText([]), "");
  assert.equal(
    unconfiguredAccountsText(["ada@example.com (east)"]),
    "ada@example.com (east) is still kept on this computer, but its environment is no longer configured: it can only be removed.",
  );
  assert.match(
    unconfiguredAccountsText(["ada@example.com (east)", "grace@example.com (west)"]),
    /^ada@example\.com \(east\), grace@example\.com \(west\) are still kept .* their environments .* they can only be removed\.$/,
  );
});
