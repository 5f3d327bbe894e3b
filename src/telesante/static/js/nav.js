// The main navigation folds behind a "Menu" button on narrow screens (the CSS decides when);
// without this script every link stays on screen.
(function () {
  const button = document.querySelector(".nav-toggle");
  const nav = document.getElementById("main-nav");
  if (!button || !nav) return;
  document.documentElement.classList.add("nav-folds");
  button.hidden = false;
  function set(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
  }
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      set(false);
      button.focus();
    }
  });
})();
