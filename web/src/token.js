// The token prompt. Several calls can answer 401 at once (the panel loads its sections in
// parallel); they all wait on the same open prompt instead of stacking dialogs.

let pending = null;

/** Resolves with the token the person entered, or null if they cancelled. */
export function askToken(message) {
  if (pending) return pending;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  document.getElementById("token-message").textContent = message;
  input.value = "";
  dialog.returnValue = ""; // Escape closes without setting it: an old "save" must not linger
  pending = new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener("close", onClose);
      pending = null;
      resolve(value);
    };
    const onClose = () => done(dialog.returnValue === "save" && input.value.trim() ? input.value.trim() : null);
    dialog.addEventListener("close", onClose);
  });
  dialog.showModal();
  input.focus();
  return pending;
}
