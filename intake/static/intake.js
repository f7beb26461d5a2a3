// Intake's one script, loaded from Intake itself (the pages' Content-Security-Policy allows no inline
// script): small conveniences that every page works without.

// A read-only field marked data-select-on-focus (the customer's link) selects its text on focus, ready to copy.
document.addEventListener("focusin", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.matches("[data-select-on-focus]")) {
    event.target.select();
  }
});
