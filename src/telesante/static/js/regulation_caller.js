// The caller's page (a phone browser, no account): consent, then the rear camera at a low
// resolution (poor networks), microphone off (the voice stays on the phone call), the position
// with its accuracy, a large « Arrêter », and a photo to send when the video is poor. Answers
// the regulator's commands (snapshot at full resolution, camera switch, torch, photo, end).

import { startRegulationCall } from "./regulation_call.js";

(() => {
  const $ = (id) => document.getElementById(id);
  const root = $("call");
  const config = JSON.parse($("call-config").textContent);
  const text = $("call-text").dataset;
  const local = $("local-video");
  const say = (line) => { $("call-status").textContent = line; };
  let facing = "environment";
  let call = null;
  let torchOn = false;
  // Opened from the SMS link, the page shows its plain address: the link's value leaves the
  // history (a reload reads the page there, the link itself opens once).
  if (location.pathname !== config.pageUrl) {
    history.replaceState(null, "", config.pageUrl + location.search);
  }

  // Low resolution and frame rate: a phone on a weak mobile network still gets through.
  const cameraConstraints = () => ({
    facingMode: { ideal: facing },
    width: { ideal: 640 },
    height: { ideal: 480 },
    frameRate: { ideal: 15, max: 20 },
  });

  const videoTrack = () => (call ? call.stream.getVideoTracks()[0] : null);

  async function post(url, form) {
    return fetch(url, {
      method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": config.csrf },
    });
  }

  function sharePosition() {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(async (pos) => {
      const form = new FormData();
      form.append("latitude", String(pos.coords.latitude));
      form.append("longitude", String(pos.coords.longitude));
      form.append("accuracy", String(pos.coords.accuracy));
      const response = await post(config.positionUrl, form);
      if (response.ok && call) call.command({ type: "position" });
    }, () => {}, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }

  async function sendPhoto(blob, kind) {
    const form = new FormData();
    form.append("file", blob, `photo-${Date.now()}.jpg`);
    form.append("kind", kind);
    const response = await post(config.photoUrl, form);
    return response.ok;
  }

  // A full-resolution photo from the camera (ImageCapture) where the phone allows, else the
  // largest frame of the camera's own stream.
  async function takeSnapshot() {
    const track = videoTrack();
    let blob = null;
    if (track && "ImageCapture" in window) {
      try {
        blob = await new ImageCapture(track).takePhoto();
      } catch (err) {
        blob = null;
      }
    }
    if (!blob && local.videoWidth) {
      const canvas = document.createElement("canvas");
      canvas.width = local.videoWidth;
      canvas.height = local.videoHeight;
      canvas.getContext("2d").drawImage(local, 0, 0);
      blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    }
    const filed = blob && blob.type.startsWith("image/") && (await sendPhoto(blob, "cliche"));
    call.command({ type: filed ? "snap-filed" : "snap-failed" });
  }

  async function switchCamera() {
    facing = facing === "environment" ? "user" : "environment";
    let fresh;
    try {
      fresh = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(), audio: false });
    } catch (err) {
      return;
    }
    const track = fresh.getVideoTracks()[0];
    const old = videoTrack();
    if (call.pc) {
      const sender = call.pc.getSenders().find((s) => s.track && s.track.kind === "video");
      if (sender) await sender.replaceTrack(track);
    }
    if (old) {
      call.stream.removeTrack(old);
      old.stop();
    }
    call.stream.addTrack(track);
    local.srcObject = new MediaStream([track]);
    torchOn = false;
    sendCaps();
  }

  function torchCapable() {
    const track = videoTrack();
    const caps = track && track.getCapabilities ? track.getCapabilities() : {};
    return Boolean(caps.torch);
  }

  async function setTorch(on) {
    const track = videoTrack();
    if (!track || !torchCapable()) return;
    try {
      await track.applyConstraints({ advanced: [{ torch: on }] });
      torchOn = on;
    } catch (err) {
      torchOn = false;
    }
    call.command({ type: "torch", on: torchOn });
  }

  async function sendCaps() {
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
    call.command({ type: "caps", torch: torchCapable(), switchable: cameras.length > 1, imageCapture: "ImageCapture" in window });
  }

  function stop() {
    if (call) {
      call.leave();
      call.stream.getTracks().forEach((t) => t.stop());
    }
    $("video-panel").hidden = true;
    $("stopped-panel").hidden = false;
    root.dataset.state = "stopped";
  }

  async function start() {
    $("consent-panel").hidden = true;
    $("video-panel").hidden = false;
    root.dataset.state = "video";
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(), audio: false });
    } catch (err) {
      stream = new MediaStream();
      say(text.noCamera);
    }
    local.srcObject = stream;
    call = startRegulationCall({
      stream,
      consent: document.documentElement.lang,
      admitted: sharePosition, // the consent is recorded: the position may go
      remoteVideo: $("remote-video"),
      status: say,
      refused: stop,
      channelOpen() {
        sendCaps();
        sharePosition();
      },
      command(msg) {
        if (msg.type === "snap") takeSnapshot();
        else if (msg.type === "switch") switchCamera();
        else if (msg.type === "torch") setTorch(Boolean(msg.on));
        else if (msg.type === "ask-photo") $("photo-asked").hidden = false;
        else if (msg.type === "end") stop();
      },
    });
  }

  // The acceptance travels with the call's connection (it admits the caller as it joins, then
  // the position goes); a refusal is sent on its own.
  async function refuse() {
    const form = new FormData();
    form.append("answer", "no");
    if (!(await post(config.consentUrl, form)).ok) return;
    $("consent-panel").hidden = true;
    $("refused-panel").hidden = false;
    root.dataset.state = "refused";
  }

  $("btn-accept").onclick = start;
  $("btn-refuse").onclick = refuse;
  $("btn-stop").onclick = stop;
  $("photo-input").onchange = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const ok = await sendPhoto(file, "photo");
    $("photo-result").textContent = ok ? text.photoSent : text.photoFailed;
    $("photo-asked").hidden = true;
    if (ok && call) call.command({ type: "photo-filed" });
    e.target.value = "";
  };
  if (config.consented) start();
})();
