// Live unread counter: the server pushes {unread: n} over the WebSocket; reconnects on loss.
(function () {
  const badge = document.getElementById("unread-count");
  if (!badge || !("WebSocket" in window)) return;
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/notifications/`);
    ws.onopen = () => { delay = 1000; };
    ws.onmessage = (event) => {
      const n = JSON.parse(event.data).unread;
      badge.textContent = n;
      badge.hidden = n === 0;
      badge.dataset.live = "1";
    };
    ws.onclose = () => { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
  }
  connect();
})();
