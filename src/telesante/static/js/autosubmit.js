// A filter choice submits its form at once (the form keeps a button for browsers without
// scripts). Bound here rather than in an onchange attribute: the Content-Security-Policy
// allows no inline script.
for (const field of document.querySelectorAll("[data-autosubmit]")) {
  field.addEventListener("change", () => field.form.submit());
}
