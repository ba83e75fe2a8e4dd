// The WebAuthn ceremonies of the hosted pages. A button carries what it needs:
//   data-webauthn="register" | "authenticate"   which browser call to make
//   data-begin / data-finish                     the JSON endpoints (same origin)
//   data-name-input / data-remember-input /
//   data-end-others-input                        ids of inputs whose values ride along
//   data-next                                    where to go when the server does not say
// The options and the credential travel as JSON in the shapes of
// PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON and
// credential.toJSON(); the CSRF token goes in the X-CSRFToken header.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || data.error_description || "Something went wrong. Try again.");
          error.data = data;
          throw error;
        }
        return data;
      });
    });
  }

  function show(button, message) {
    var target = document.getElementById(button.dataset.status || "webauthn-status");
    if (target) {
      target.textContent = message;
      target.hidden = !message;
    }
  }

  function inputValue(id, checkbox) {
    var input = id && document.getElementById(id);
    if (!input) return checkbox ? false : null;
    return checkbox ? input.checked : input.value;
  }

  function ceremony(button) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      return Promise.reject(new Error("This browser does not support passkeys."));
    }
    var registering = button.dataset.webauthn === "register";
    return post(button.dataset.begin, {}).then(function (options) {
      if (registering) {
        var creation = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
        return navigator.credentials.create({ publicKey: creation });
      }
      var request = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey);
      return navigator.credentials.get({ publicKey: request });
    }).then(function (credential) {
      return post(button.dataset.finish, {
        credential: credential.toJSON(),
        name: inputValue(button.dataset.nameInput, false),
        remember: inputValue(button.dataset.rememberInput, true),
        end_others: inputValue(button.dataset.endOthersInput, true),
        next: button.dataset.next || null,
      });
    });
  }

  function start(event) {
    var button = event.currentTarget;
    event.preventDefault();
    button.disabled = true;
    show(button, "");
    ceremony(button).then(function (result) {
      window.location.assign(result.redirect || button.dataset.next || window.location.href);
    }).catch(function (error) {
      button.disabled = false;
      if (error && error.data && error.data.redirect) {
        window.location.assign(error.data.redirect);
        return;
      }
      var cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      show(button, cancelled ? "The passkey request was cancelled or timed out. Try again."
                             : (error && error.message) || "Something went wrong. Try again.");
    });
  }

  document.querySelectorAll("[data-webauthn]").forEach(function (button) {
    button.addEventListener("click", start);
    button.hidden = false;
  });
})();
