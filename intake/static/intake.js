// Intake's one script, loaded from Intake itself (the pages' Content-Security-Policy allows no inline
// script): small conveniences that every page works without.

// A read-only field marked data-select-on-focus (the customer's link) selects its text on focus, ready to copy.
document.addEventListener("focusin", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.matches("[data-select-on-focus]")) {
    event.target.select();
  }
});

// A partner's name typed where Intake has too many partners to list them (data-suggest: where to ask):
// the names of partners like it fill the page's <datalist>, which the browser offers as choices. Without
// this script, or offline, the name is sent as typed and still recognised.
let suggesting;
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.suggest) {
    return;
  }
  clearTimeout(suggesting);
  suggesting = setTimeout(async () => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list || input.value.trim().length < 2) {
      return;
    }
    const url = new URL(input.dataset.suggest, window.location.href);
    url.searchParams.set("q", input.value);
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const { names } = await response.json();
        list.replaceChildren(...names.map((name) => Object.assign(document.createElement("option"), { value: name })));
      }
    } catch {
      // Not reached this time: the name is sent as typed.
    }
  }, 150);
});
