// Searchable pickers (core/pickers.py, partials/picker.html): a combobox asks its endpoint for
// one page of matches as the user types; the chosen id goes into the hidden input. Keyboard:
// arrows move, Enter chooses, Escape closes. Extra query parameters come from the fields named
// in data-params ("name=#selector,..."), e.g. the filière of a named expert or « né·e à
// l'étranger » for a birthplace.
(function () {
  "use strict";

  function setup(root) {
    const hidden = root.querySelector(".picker-value");
    const input = root.querySelector(".picker-search");
    const list = root.querySelector(".picker-list");
    const status = root.querySelector(".picker-status");
    let items = [];
    let active = -1;
    let page = 1;
    let timer = null;
    let request = 0;
    // The list of matches is named after the field's label (a listbox needs a name).
    const label = document.querySelector(`label[for="${input.id}"]`);
    if (label) list.setAttribute("aria-label", label.textContent.replace(/\s*\*\s*$/, "").trim());

    function params(query, pageNumber) {
      const url = new URL(root.dataset.url, window.location.href);
      url.searchParams.set("q", query);
      url.searchParams.set("page", String(pageNumber));
      (root.dataset.params || "").split(",").filter(Boolean).forEach((pair) => {
        const [name, selector] = pair.split("=");
        const field = document.querySelector(selector);
        if (!field) return;
        const value = field.type === "checkbox" ? (field.checked ? "1" : "") : field.value;
        url.searchParams.set(name, value);
      });
      return url;
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      const options = list.querySelectorAll("[role=option]");
      options.forEach((o, i) => o.setAttribute("aria-selected", i === index ? "true" : "false"));
      active = index;
      if (options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(index) {
      const item = items[index];
      if (!item) return;
      if (item.more) {
        search(input.value, page + 1, true);
        return;
      }
      hidden.value = item.id;
      input.value = item.label;
      status.textContent = interpolate(gettext("Choisi : %(label)s"), { label: item.label }, true);
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function render(results, more, append) {
      items = append ? items.filter((i) => !i.more) : [];
      items.push(...results);
      if (more) items.push({ more: true, label: gettext("Voir plus de résultats…") });
      list.replaceChildren();
      items.forEach((item, i) => {
        const li = document.createElement("li");
        li.id = `${input.id}_opt_${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        if (item.more) {
          li.className = "picker-more";
          li.textContent = item.label;
        } else {
          const strong = document.createElement("strong");
          strong.textContent = item.label;
          li.append(strong);
          if (item.detail) {
            const small = document.createElement("small");
            small.textContent = ` ${item.detail}`;
            li.append(small);
          }
        }
        li.addEventListener("mousedown", (e) => {
          e.preventDefault(); // keep the focus in the input
          choose(i);
        });
        list.append(li);
      });
      const count = items.filter((i) => !i.more).length;
      status.textContent = count
        ? interpolate(
            ngettext("%(n)s résultat", "%(n)s résultats", count) + (more ? " +" : ""),
            { n: count },
            true,
          )
        : gettext("Aucun résultat : vérifiez l'orthographe ou tapez moins de lettres.");
      list.hidden = count === 0;
      input.setAttribute("aria-expanded", count ? "true" : "false");
      if (append) highlight(active);
    }

    async function search(query, pageNumber, append) {
      const mine = ++request;
      try {
        const response = await fetch(params(query, pageNumber), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(String(response.status));
        const data = await response.json();
        if (mine !== request) return; // a later keystroke won
        page = pageNumber;
        render(data.results, data.more, append);
      } catch (err) {
        status.textContent = gettext("Recherche impossible pour le moment ; réessayez.");
      }
    }

    input.addEventListener("input", () => {
      hidden.value = ""; // what is typed is not a choice until one is made
      clearTimeout(timer);
      const query = input.value.trim();
      if (!query) {
        close();
        status.textContent = "";
        return;
      }
      timer = setTimeout(() => search(query, 1, false), 200);
    });
    input.addEventListener("keydown", (e) => {
      const count = items.length;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (list.hidden && input.value.trim()) search(input.value.trim(), 1, false);
        else if (count) highlight((active + 1) % count);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        if (count) highlight((active - 1 + count) % count);
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) {
          e.preventDefault();
          choose(active);
        }
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
    // A change of what the search depends on (filière, born abroad) starts it anew.
    (root.dataset.params || "").split(",").filter(Boolean).forEach((pair) => {
      const field = document.querySelector(pair.split("=")[1]);
      field?.addEventListener("change", () => {
        hidden.value = "";
        input.value = "";
        close();
        status.textContent = "";
        input.focus();
      });
    });
  }

  document.querySelectorAll(".picker").forEach(setup);
})();
