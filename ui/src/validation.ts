/**
 * Passkey name rules, the same as the client core's (`rename_passkey` checks
 * them again before anything is sent).
 */

/**
 * The longest name Scalekit accepts: `scalekit_wire::DISPLAY_NAME_MAX_CHARS`
 * in Rust (a test there, `crates/scalekit-wire/tests/ui_limit.rs`, keeps the
 * two equal).
 */
export const MAX_NAME_LENGTH = 120;

/** The trimmed name, or why it cannot be used. */
export type NameCheck = { ok: true; name: string } | { ok: false; message: string };

/** Checks a passkey name: trimmed, 1 to 120 characters, no control characters. */
export function checkPasskeyName(input: string): NameCheck {
  const name = input.trim();
  // Unicode code points, as the core counts them (Rust's `chars()`).
  const length = Array.from(name).length;
  if (length === 0) {
    return { ok: false, message: "Enter a name." };
  }
  if (length > MAX_NAME_LENGTH) {
    return { ok: false, message: `Use at most ${MAX_NAME_LENGTH} characters (this one has ${length}).` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/u.test(name)) {
    return { ok: false, message: "Remove the control characters (such as tabs or line breaks)." };
  }
  return { ok: true, name };
}
