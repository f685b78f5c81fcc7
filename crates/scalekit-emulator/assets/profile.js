// Passkeys page: add (navigator.credentials.create), rename and remove.
// It keeps the browser's passkeys in step with WebAuthn's Signal API, with
// the inputs Scalekit's API returns: every load tells the browser which of
// this user's passkeys still work here (signalAllAcceptedCredentials, from
// the list's all_accepted_credentials_options), a removal tells it which
// one no longer does (signalUnknownCredential, from the removal's
// unknown_credential_options), and the page says whether it could.
"use strict";

(() => {
  const errorBox = document.getElementById("profile-error");
  const addButton = document.getElementById("add-passkey");
  const signalStatus = document.getElementById("signal-status");
  const NOTICE_KEY = "skemu-profile-notice";

  function canSignal(method) {
    return typeof window.PublicKeyCredential === "function" && typeof window.PublicKeyCredential[method] === "function";
  }

  function say(text) {
    if (!signalStatus) return;
    signalStatus.textContent = text;
    signalStatus.classList.remove("hidden");
  }

  // A message carried over the reload that follows a removal.
  const carried = window.sessionStorage.getItem(NOTICE_KEY);
  if (carried) {
    window.sessionStorage.removeItem(NOTICE_KEY);
    say(carried);
  }

  // Tell the browser which of this user's passkeys still work here, so it
  // can stop offering any removed elsewhere (the desktop app, the API).
  const list = document.getElementById("passkey-list");
  if (list && list.dataset.allAccepted && canSignal("signalAllAcceptedCredentials")) {
    try {
      const accepted = JSON.parse(list.dataset.allAccepted);
      // An empty list is left out of the JSON (as Scalekit's API may):
      // no ids means none is accepted any more.
      const ids = accepted.all_accepted_credential_ids || [];
      if (accepted.rp_id && accepted.user_id && Array.isArray(ids)) {
        window.PublicKeyCredential.signalAllAcceptedCredentials({
          rpId: accepted.rp_id,
          userId: accepted.user_id,
          allAcceptedCredentialIds: ids,
        }).catch(() => {});
      }
    } catch (_) {
      // A malformed attribute tells the browser nothing.
    }
  }

  /** After a removal: tell the browser, and say whether it could be told. */
  async function signalRemoved(answer) {
    const options = answer && answer.unknown_credential_options;
    if (!options || !options.rp_id || !options.credential_id) {
      return "Passkey removed. Delete it from your password manager or security key too.";
    }
    if (!canSignal("signalUnknownCredential")) {
      return "Passkey removed. This browser cannot be told it is gone (no WebAuthn Signal API): delete it from your password manager too.";
    }
    try {
      await window.PublicKeyCredential.signalUnknownCredential({
        rpId: options.rp_id,
        credentialId: options.credential_id,
      });
      return "Passkey removed. Your browser was told it no longer works here (WebAuthn Signal API), so its password manager can delete it.";
    } catch (_) {
      return "Passkey removed. Your browser could not be told it is gone: delete it from your password manager too.";
    }
  }

  function fail(error) {
    SkWebauthn.showError(errorBox, SkWebauthn.describe(error));
  }

  if (addButton) {
    if (!SkWebauthn.supported()) {
      addButton.disabled = true;
      SkWebauthn.showError(errorBox, "This browser does not support passkeys.");
    }
    addButton.addEventListener("click", async () => {
      addButton.disabled = true;
      try {
        const start = await SkWebauthn.sendJson("POST", "/ui/profile/passkeys/register/start", {});
        const credential = await navigator.credentials.create({
          publicKey: SkWebauthn.creationOptions(start.options.publicKey),
        });
        await SkWebauthn.sendJson("POST", "/ui/profile/passkeys/register/finish", {
          ceremony: start.ceremony,
          credential: SkWebauthn.encodeRegistration(credential),
        });
        window.location.reload();
      } catch (error) {
        fail(error);
        addButton.disabled = false;
      }
    });
  }

  document.querySelectorAll("[data-rename]").forEach((button) => {
    button.addEventListener("click", () => {
      const form = document.getElementById("rename-" + button.dataset.rename);
      if (form) {
        form.classList.toggle("hidden");
        const input = form.querySelector("input");
        if (input) input.focus();
      }
    });
  });

  document.querySelectorAll("form[data-passkey]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = form.querySelector("input").value;
      try {
        await SkWebauthn.sendJson("PATCH", "/ui/profile/passkeys/" + encodeURIComponent(form.dataset.passkey), {
          display_name: name,
        });
        window.location.reload();
      } catch (error) {
        fail(error);
      }
    });
  });

  document.querySelectorAll("[data-remove]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (!window.confirm("Remove this passkey? You will no longer be able to sign in with it.")) return;
      try {
        const answer = await SkWebauthn.sendJson(
          "DELETE",
          "/ui/profile/passkeys/" + encodeURIComponent(button.dataset.remove),
        );
        window.sessionStorage.setItem(NOTICE_KEY, await signalRemoved(answer));
        window.location.reload();
      } catch (error) {
        fail(error);
      }
    });
  });
})();
