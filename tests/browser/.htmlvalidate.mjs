// The rules every page Intake serves is held to (tests/test_page_quality.py runs html-validate with it).
// Everything in html-validate:recommended stays on except rules about how markup is spelled, not
// whether it is right; each rule turned off or loosened says why.
export default {
  root: true,
  extends: ["html-validate:recommended"],
  rules: {
    // Jinja leaves the indentation of its tags behind; a browser ignores trailing spaces.
    "no-trailing-whitespace": "off",
    // `<!doctype html>` and `<!DOCTYPE html>` are the same document type; the case is taste.
    "doctype-style": "off",
    // A group of checkboxes shares one name and sends each ticked value under it, as the HTML form
    // submission algorithm says and the questionnaire's multiple choices (pain points, solutions) read
    // them; a name in brackets (`pain_points[]`) is one server framework's convention, not a rule.
    "form-dup-name": ["error", { shared: ["radio", "checkbox", "button", "reset", "submit"] }],
  },
};
