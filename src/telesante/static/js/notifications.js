// Live unread counter: the server pushes {unread: n} over the WebSocket; reconnects on loss.
// Each message, and {worklist: true} when the work list changed without a notification (a
// waiting room), is announced to the page ("telesante:notifications": the work list refreshes
// itself); `first` marks the count sent when a connection opens.
(function () {
  const badge = document.getElementById("unread-count");
  if (!badge || !("WebSocket" in window)) return;
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/notifications/`);
    let first = true;
    ws.onopen = () => { delay = 1000; };
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.unread !== undefined) {  // {worklist: true} only says the work list changed
        badge.textContent = data.unread;
        badge.hidden = data.unread === 0;
        badge.dataset.live = "1";
      }
      document.dispatchEvent(new CustomEvent("telesante:notifications", { detail: { unread: data.unread, first } }));
      first = false;
    };
    ws.onclose = () => { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
  }
  connect();
})();
