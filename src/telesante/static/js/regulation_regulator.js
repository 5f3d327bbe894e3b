// The regulator's screen: the caller's video full size, their position (server-drawn), the
// network quality, and the commands sent to the caller's phone over the data channel.

import { startRegulationCall } from "./regulation_call.js";

(async () => {
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("call-config").textContent);
  const text = $("call-text").dataset;
  const remote = $("remote-video");
  const say = (line) => { $("call-status").textContent = line; };
  const result = (line) => { $("snap-result").textContent = line; };
  let snapTimer = null;

  // The regulator's own camera, small and at low resolution: the caller sees who helps them.
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15 } },
      audio: false,
    });
  } catch (err) {
    stream = new MediaStream();
  }
  $("local-video").srcObject = stream;

  async function refreshPosition() {
    const response = await fetch(config.positionUrl, { credentials: "same-origin" });
    if (response.ok) $("position-panel").innerHTML = await response.text();
  }

  async function upload(blob) {
    const form = new FormData();
    form.append("file", blob, `cliche-${Date.now()}.jpg`);
    const response = await fetch(config.snapshotUrl, {
      method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": config.csrf },
    });
    result(response.ok ? text.snapFiled : (await response.json()).detail || text.snapFailed);
  }

  // The caller's phone could not take a full-resolution photo: a frame of the video received.
  function frameSnapshot() {
    clearTimeout(snapTimer);
    if (!remote.videoWidth) {
      result(text.snapFailed);
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = remote.videoWidth;
    canvas.height = remote.videoHeight;
    canvas.getContext("2d").drawImage(remote, 0, 0);
    canvas.toBlob((blob) => (blob ? upload(blob) : result(text.snapFailed)), "image/jpeg", 0.92);
  }

  const call = startRegulationCall({
    stream,
    remoteVideo: remote,
    status: say,
    channelOpen: refreshPosition,
    command(msg) {
      if (msg.type === "caps") {
        $("btn-torch").disabled = !msg.torch;
        $("btn-switch").disabled = !msg.switchable;
      } else if (msg.type === "position") {
        refreshPosition();
      } else if (msg.type === "snap-filed") {
        clearTimeout(snapTimer);
        result(text.snapFiled);
      } else if (msg.type === "snap-failed") {
        frameSnapshot();
      } else if (msg.type === "photo-filed") {
        result(text.photoFiled);
      } else if (msg.type === "torch") {
        $("btn-torch").setAttribute("aria-pressed", String(Boolean(msg.on)));
      }
    },
  });

  $("btn-snap").onclick = () => {
    // Full resolution from the phone (ImageCapture) when it answers in time, else a frame.
    if (call.command({ type: "snap" })) {
      result(text.snapAsked);
      snapTimer = setTimeout(frameSnapshot, 8000);
    } else {
      frameSnapshot();
    }
  };
  $("btn-switch").onclick = () => call.command({ type: "switch" });
  $("btn-torch").onclick = (e) => call.command({ type: "torch", on: e.currentTarget.getAttribute("aria-pressed") !== "true" });
  $("btn-ask-photo").onclick = () => { if (call.command({ type: "ask-photo" })) result(text.photoAsked); };
  $("end-form").addEventListener("submit", () => {
    call.command({ type: "end" });
    call.leave();
  });

  setInterval(async () => {
    const q = await call.quality();
    if (!q) return;
    $("quality").textContent = interpolateText(text.quality, {
      rtt: q.rtt === null ? "—" : `${Math.round(q.rtt * 1000)} ms`,
      loss: `${q.loss.toFixed(1)} %`,
      kbps: q.kbps === null ? "—" : `${Math.round(q.kbps)} kbit/s`,
    });
  }, 2000);

  function interpolateText(template, values) {
    return template.replace(/\{(\w+)\}/g, (_m, key) => String(values[key]));
  }
})();
