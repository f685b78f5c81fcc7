// Sign-in page: "Continue with Passkey" and, where the browser offers it,
// passkey autofill on the email field (conditional mediation).
"use strict";

(() => {
  const main = document.querySelector("main[data-passkeys]");
  if (!main || main.dataset.passkeys !== "on") return;
  const button = document.getElementById("passkey-button");
  const errorBox = document.getElementById("passkey-error");
  const flow = { auth_request: main.dataset.authRequest || null, next: main.dataset.next || null };
  let conditional = null;

  if (!SkWebauthn.supported()) {
    if (button) button.disabled = true;
    SkWebauthn.showError(errorBox, "This browser does not support passkeys.");
    return;
  }

  async function signIn(mediation, signal) {
    const start = await SkWebauthn.sendJson("POST", "/ui/login/passkey/start", flow);
    const options = { publicKey: SkWebauthn.requestOptions(start.options.publicKey) };
    if (mediation) options.mediation = mediation;
    if (signal) options.signal = signal;
    const credential = await navigator.credentials.get(options);
    if (!credential) throw new Error("No passkey was chosen.");
    const finish = await SkWebauthn.sendJson("POST", "/ui/login/passkey/finish", {
      ceremony: start.ceremony,
      credential: SkWebauthn.encodeAssertion(credential),
      auth_request: flow.auth_request,
      next: flow.next,
    });
    window.location.assign(finish.redirect);
  }

  if (button) {
    button.addEventListener("click", async () => {
      if (conditional) conditional.abort();
      button.disabled = true;
      try {
        await signIn(null, null);
      } catch (error) {
        SkWebauthn.showError(errorBox, SkWebauthn.describe(error));
        button.disabled = false;
      }
    });
  }

  const canAutofill = window.PublicKeyCredential.isConditionalMediationAvailable;
  if (typeof canAutofill === "function") {
    canAutofill.call(window.PublicKeyCredential).then((available) => {
      if (!available) return;
      conditional = new AbortController();
      signIn("conditional", conditional.signal).catch((error) => {
        if (error && error.name === "AbortError") return;
        if (error && error.name === "NotAllowedError") return;
        SkWebauthn.showError(errorBox, SkWebauthn.describe(error));
      });
    });
  }
})();
