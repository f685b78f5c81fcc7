// WebAuthn helpers shared by the hosted pages: base64url <-> bytes, option
// decoding, credential encoding and a small JSON POST with the CSRF header.
"use strict";

const SkWebauthn = (() => {
  function b64urlToBytes(value) {
    const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function bytesToB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map((d) => Object.assign({}, d, { id: b64urlToBytes(d.id) }));
  }

  function creationOptions(publicKey) {
    const options = Object.assign({}, publicKey);
    options.challenge = b64urlToBytes(publicKey.challenge);
    options.user = Object.assign({}, publicKey.user, { id: b64urlToBytes(publicKey.user.id) });
    options.excludeCredentials = decodeDescriptors(publicKey.excludeCredentials);
    return options;
  }

  function requestOptions(publicKey) {
    const options = Object.assign({}, publicKey);
    options.challenge = b64urlToBytes(publicKey.challenge);
    options.allowCredentials = decodeDescriptors(publicKey.allowCredentials);
    return options;
  }

  function encodeRegistration(credential) {
    const response = credential.response;
    const transports = typeof response.getTransports === "function" ? response.getTransports() : [];
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: {
        attestationObject: bytesToB64url(response.attestationObject),
        clientDataJSON: bytesToB64url(response.clientDataJSON),
        transports: transports,
      },
    };
  }

  function encodeAssertion(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: {
        authenticatorData: bytesToB64url(response.authenticatorData),
        clientDataJSON: bytesToB64url(response.clientDataJSON),
        signature: bytesToB64url(response.signature),
        userHandle: response.userHandle ? bytesToB64url(response.userHandle) : null,
      },
    };
  }

  function csrfToken() {
    const main = document.querySelector("main[data-csrf]");
    return main ? main.dataset.csrf : "";
  }

  async function sendJson(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (_) {
      data = {};
    }
    if (!response.ok) {
      throw new Error(data.error || "The request failed (" + response.status + ").");
    }
    return data;
  }

  function supported() {
    return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
  }

  function showError(element, message) {
    if (!element) return;
    element.textContent = message;
    element.classList.remove("hidden");
  }

  function describe(error) {
    if (error && error.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
    if (error && error.name === "InvalidStateError") return "This authenticator already holds a passkey for this account.";
    return (error && error.message) || "Something went wrong.";
  }

  return { creationOptions, requestOptions, encodeRegistration, encodeAssertion, sendJson, supported, showError, describe };
})();
