/** How passkey details read on screen. */
import type { Passkey } from "./api.js";

/** The name shown for a passkey: its display name, else its provider's, else a generic one. */
export function passkeyTitle(passkey: Passkey): string {
  const name = passkey.displayName.trim();
  if (name !== "") return name;
  const provider = passkey.authenticator.name?.trim();
  if (provider !== undefined && provider !== "") return provider;
  return "Passkey";
}

/** The provider's name (from the AAGUID), or a generic one. */
export function providerName(passkey: Passkey): string {
  const provider = passkey.authenticator.name?.trim();
  return provider !== undefined && provider !== "" ? provider : "Unknown provider";
}

/** A date in the person's locale, or null when missing or unreadable. */
export function localeDate(iso: string | null): string | null {
  if (iso === null) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** "Chrome on macOS, Berlin": where a passkey was registered, or null when unknown. */
export function registeredWhere(passkey: Passkey): string | null {
  const from = passkey.registeredFrom;
  const clean = (value: string | null): string | null => {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === "" ? null : trimmed;
  };
  const browser = clean(from.browser);
  const os = clean(from.os);
  const city = clean(from.city) ?? clean(from.region);
  const device = browser !== null && os !== null ? `${browser} on ${os}` : (browser ?? os);
  const parts = [device, city].filter((part): part is string => part !== null);
  return parts.length === 0 ? null : parts.join(", ");
}

/** How a passkey is backed up, from its authenticator flags. */
export type BackupPosture = "synced" | "notBackedUp" | "thisDeviceOnly";

/** Backed up and synced; can sync but not backed up yet; cannot leave its device. */
export function backupPosture(passkey: Passkey): BackupPosture {
  if (passkey.synced) return "synced";
  return passkey.deviceBound ? "thisDeviceOnly" : "notBackedUp";
}

/** The words a row shows for each backup posture. */
export const BACKUP_LABELS: Readonly<Record<BackupPosture, string>> = {
  synced: "Synced",
  notBackedUp: "Can sync, not backed up yet",
  thisDeviceOnly: "This device only",
};

/** WebAuthn transports (`AuthenticatorTransport`) in words. */
const TRANSPORT_WORDS: Readonly<Record<string, string>> = {
  usb: "USB",
  nfc: "NFC",
  ble: "Bluetooth",
  hybrid: "phone or tablet nearby",
  internal: "built in",
  "smart-card": "smart card",
};

/** "USB, NFC": how the passkey's authenticator connects, or null when unknown. Unknown values are left out. */
export function transportsInWords(passkey: Passkey): string | null {
  const words = [...new Set(passkey.transports.map((t) => TRANSPORT_WORDS[t.trim().toLowerCase()]))].filter(
    (word): word is string => word !== undefined,
  );
  return words.length === 0 ? null : words.join(", ");
}

/** True when there are passkeys and every one of them cannot leave its device (losing it locks the person out). */
export function allDeviceBound(passkeys: readonly Passkey[]): boolean {
  return passkeys.length > 0 && passkeys.every((passkey) => passkey.deviceBound);
}

/** Where people delete a passkey in the providers the AAGUID list names most often (matched on the provider's name). */
const DELETE_HOW: readonly (readonly [RegExp, string])[] = [
  [/icloud|apple/i, "on an Apple device, in Settings › Passwords"],
  [/google/i, "in Google Password Manager (passwords.google.com)"],
  [/windows hello|microsoft/i, "in Windows, in Settings › Accounts › Passkeys"],
  [/1password/i, "in the 1Password app"],
  [/bitwarden/i, "in the Bitwarden app"],
  [/dashlane/i, "in the Dashlane app"],
  [/yubikey|yubico|security key|titan|feitian|solokey|nitrokey/i, "with the key maker's tool (for a YubiKey, Yubico Authenticator), or by resetting the key"],
];

/**
 * Where a passkey stays once removed from the account: "in iCloud Keychain";
 * with no provider known, "on the security key" for a roaming one, else "on
 * its device or in its password manager".
 */
export function whereItStays(passkey: Passkey): string {
  const provider = passkey.authenticator.name?.trim();
  if (provider !== undefined && provider !== "") return `in ${provider}`;
  return passkey.authenticator.attachment === "cross-platform"
    ? "on the security key"
    : "on its device or in its password manager";
}

/**
 * After a removal: the passkey is gone from this account but still saved by
 * its provider. Names the provider and, where known, where to delete it.
 */
export function stillSavedIn(passkey: Passkey): string {
  const provider = passkey.authenticator.name?.trim();
  if (provider === undefined || provider === "") {
    return `The passkey itself is still saved ${whereItStays(passkey)}: delete it there too.`;
  }
  const how = DELETE_HOW.find(([pattern]) => pattern.test(provider))?.[1];
  return how === undefined
    ? `It is still saved in ${provider}: delete it there too.`
    : `It is still saved in ${provider}: delete it there too, ${how}.`;
}

/** The notice after removing the accounts whose environment is no longer configured. */
export function removedAccountsMessage(count: number): string {
  if (count === 0) {
    return "Every account's environment is still configured: nothing was removed.";
  }
  const accounts = count === 1 ? "1 account" : `${String(count)} accounts`;
  return `Removed ${accounts} whose environment is no longer configured.`;
}

/**
 * What the signed-out screen says of accounts still in the keychain whose
 * environment is no longer configured (`accounts` as "email (environment)").
 */
export function unconfiguredAccountsText(accounts: readonly string[]): string {
  const [first, ...rest] = accounts;
  if (first === undefined) return "";
  if (rest.length === 0) {
    return `${first} is still kept on this computer, but its environment is no longer configured: it can only be removed.`;
  }
  return `${accounts.join(", ")} are still kept on this computer, but their environments are no longer configured: they can only be removed.`;
}
