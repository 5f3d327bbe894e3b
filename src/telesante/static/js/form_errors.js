// After a refused form, on every page: the fields in error are marked for assistive technology
// (aria-invalid, aria-describedby naming their messages) when their template did not do it
// already (partials/field.html and the allauth fields do), and the focus goes to the error
// summary, else to the first field in error, rather than staying on the page's body.
(function () {
  "use strict";
  let count = 0;
  document.querySelectorAll(".has-error").forEach((field) => {
    const ids = [];
    field.querySelectorAll(".error").forEach((message) => {
      if (message.closest("[id$='_error']")) return; // already named by its field
      if (!message.id) message.id = `form-error-${++count}`;
      ids.push(message.id);
    });
    field.querySelectorAll("input:not([type=hidden]), select, textarea").forEach((input) => {
      input.setAttribute("aria-invalid", "true");
      const described = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
      ids.forEach((id) => described.includes(id) || described.push(id));
      if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    });
  });
  const summary = document.querySelector("main .error-summary, main .errors, main [data-error-summary]");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
    return;
  }
  document.querySelector("main [aria-invalid=true]")?.focus();
})();
