// Team board: each alert pushed on the team's WebSocket refreshes the rows (sorted server-side)
// and is announced; the socket reconnects by itself.
(function () {
  const live = document.getElementById("tsv-live");
  const board = document.getElementById("tsv-board");
  if (!live || !board) return;
  const teams = (live.dataset.teams || "").split(",").filter(Boolean);
  const scheme = location.protocol === "https:" ? "wss" : "ws";

  async function refresh() {
    const query = new URLSearchParams(location.search);  // the page being read stays on screen
    query.set("fragment", "1");
    const response = await fetch(location.pathname + "?" + query, { credentials: "same-origin" });
    if (response.ok) board.innerHTML = await response.text();
  }

  function announce(data) {
    let toast = document.getElementById("tsv-toast");
    if (!toast) {
      toast = document.createElement("p");
      toast.id = "tsv-toast";
      toast.className = "card warning tsv-toast";
      toast.setAttribute("role", "alert");
      document.body.appendChild(toast);
    }
    toast.textContent = data.severity_label + " — " + data.message;
  }

  function connect(team) {
    const socket = new WebSocket(`${scheme}://${location.host}/ws/telesurveillance/equipes/${team}/`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "alert") {
        if (data.state === "open") announce(data);
        refresh();
      }
    };
    socket.onopen = () => document.body.setAttribute("data-tsv-live", "1");
    socket.onclose = (event) => { if (event.code !== 4403) setTimeout(() => connect(team), 2000); };
  }
  teams.forEach(connect);
})();
