// After a security key or passkey is registered, show it in the list.
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.reload();
});
