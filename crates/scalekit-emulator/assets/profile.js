// Passkeys page: add (navigator.credentials.create), rename and remove.
"use strict";

(() => {
  const errorBox = document.getElementById("profile-error");
  const addButton = document.getElementById("add-passkey");

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
        await SkWebauthn.sendJson("DELETE", "/ui/profile/passkeys/" + encodeURIComponent(button.dataset.remove));
        window.location.reload();
      } catch (error) {
        fail(error);
      }
    });
  });
})();
