// The home page's work list follows the notifications: when one arrives (or the socket comes
// back after a loss, when some may have been missed) the list is fetched again and swapped in.
// Bursts are coalesced: one fetch at a time, and one more if something came meanwhile.
(function () {
  const list = document.getElementById("worklist");
  const status = document.getElementById("worklist-status");
  if (!list) return;
  let connections = 0;
  let busy = false;
  let again = false;

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(list.dataset.url, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (response.ok) {
        list.innerHTML = await response.text();
        list.dataset.refreshed = String(Number(list.dataset.refreshed || 0) + 1);
        const time = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
        status.textContent = interpolate(gettext("Liste mise à jour à %(time)s."), { time }, true);
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  document.addEventListener("telesante:notifications", (event) => {
    // The page was drawn with the list of the moment: the first connection's hello adds nothing.
    if (event.detail.first && connections++ === 0) return;
    refresh();
  });
})();
