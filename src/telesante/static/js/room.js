// Video room: standard WebRTC only (getUserMedia, RTCPeerConnection), no build step.
// Signaling over the room WebSocket with the perfect-negotiation pattern; the peer admitted
// earlier is the polite one. ICE restart after a network loss. A lost WebSocket reconnects with a
// fresh token and the resume token of the lost one: the page comes back as the same peer and
// keeps its calls meanwhile (the media flows peer to peer); a call that failed is set up again.
//
// The peer connections with one peer are numbered (a generation, sent with every signal): a
// side that replaces its connection takes the next number, the other side, seeing it, replaces
// its own with the same number, and the late signals of a replaced connection are ignored.

import { handleSignal, offerWhenNeeded, roomSocket } from "./negotiation.js";

const config = JSON.parse(document.getElementById("room-config").textContent);
const $ = (id) => document.getElementById(id);
const statusLine = $("room-status");
const announcer = $("room-announcer");
const videos = $("videos");
const localVideo = $("local-video");

const state = {
  ws: null,
  me: null,
  admitted: false,
  leaving: false,
  retryDelay: 500,
  iceServers: [],
  stream: new MediaStream(),
  resume: "", // what the server handed this connection to come back as the same peer
  peers: new Map(), // peer id -> {pc, polite, makingOffer, ignoreOffer, tile, video}
  early: new Map(), // peer id -> signals received before meeting that peer
};
// Tests and support staff read the room's state from the console.
window.telesanteRoom = state;

// What a screen reader hears: each change once, in a polite live region that keeps its last
// few lines (a new line is read, the older ones are not read again).
const ANNOUNCED_LINES = 5;

function announce(text) {
  const line = document.createElement("p");
  line.textContent = text;
  announcer.append(line);
  while (announcer.childElementCount > ANNOUNCED_LINES) announcer.firstElementChild.remove();
}

// The status line on screen; a new state is announced, the same one again is not.
function say(text) {
  if (statusLine.textContent === text) return;
  statusLine.textContent = text;
  announce(text);
}

// The name shown on a peer's video and read with it: « Claire MARTIN, Médecin ».
function peerName(peer) {
  const role = (config.roles || {})[peer.role];
  return role ? interpolate(gettext("%(name)s, %(role)s"), { name: peer.label, role }, true) : peer.label;
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

// Local media ---------------------------------------------------------------------------------

// `constraints`: {video, audio}, each true, false or a device id.
async function startMedia(constraints) {
  const ask = (choice) => (typeof choice === "string" ? { deviceId: { exact: choice } } : choice);
  try {
    return await navigator.mediaDevices.getUserMedia({ video: ask(constraints.video), audio: ask(constraints.audio) });
  } catch (err) {
    say(gettext("Caméra ou micro indisponible : vérifiez les autorisations du navigateur."));
    return new MediaStream();
  }
}

const localTrack = (kind) => state.stream.getTracks().find((t) => t.kind === kind);

// The device lists; run again when a camera (an otoscope, a dermatoscope) is plugged in.
async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, select, track] of [
    ["videoinput", $("camera-select"), localTrack("video")],
    ["audioinput", $("mic-select"), localTrack("audio")],
  ]) {
    const current = track ? track.getSettings().deviceId : "";
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const unnamed = kind === "videoinput" ? gettext("Caméra %(number)s") : gettext("Micro %(number)s");
      const option = new Option(d.label || interpolate(unnamed, { number: i + 1 }, true), d.deviceId);
      option.selected = d.deviceId === current;
      select.append(option);
    });
  }
}

// Switch camera or microphone during the call: only that device is opened, and its track
// replaces the old one in every call already sending (no new negotiation). A call that has not
// sent yet takes the new track when it does.
async function switchDevice(kind, deviceId) {
  const fresh = await startMedia({ video: kind === "video" && deviceId, audio: kind === "audio" && deviceId });
  const track = fresh.getTracks().find((t) => t.kind === kind);
  if (!track) {
    await fillDevices(); // back to the device still in use
    return;
  }
  const old = localTrack(kind);
  if (old) {
    track.enabled = old.enabled; // a muted micro or a camera off stays so
    state.stream.removeTrack(old);
  }
  state.stream.addTrack(track);
  for (const entry of state.peers.values()) {
    if (!entry.sending) continue;
    const transceiver = entry.pc.getTransceivers().find((t) => t.receiver.track.kind === kind && t.sender.track !== null) ||
      entry.pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
    if (transceiver) await transceiver.sender.replaceTrack(track);
    else entry.pc.addTrack(track, state.stream);
  }
  if (old) old.stop();
  // A fresh preview stream: the local <video> (and its snapshot) shows the new camera at once.
  localVideo.srcObject = new MediaStream(state.stream.getTracks());
}

// `texts`: the button's label when on and when off, and what is announced once off and on.
function toggle(kind, button, texts) {
  const tracks = kind === "video" ? state.stream.getVideoTracks() : state.stream.getAudioTracks();
  const off = button.getAttribute("aria-pressed") !== "true";
  tracks.forEach((t) => { t.enabled = !off; });
  button.setAttribute("aria-pressed", String(off));
  button.textContent = off ? texts.offLabel : texts.onLabel;
  announce(off ? texts.nowOff : texts.nowOn);
}

// Calls ---------------------------------------------------------------------------------------

function olderThan(a, b) {
  return a.rank < b.rank || (a.rank === b.rank && a.id < b.id);
}

function countFrames(video) {
  video.dataset.frames = "0";
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const tick = () => {
      video.dataset.frames = String(Number(video.dataset.frames) + 1);
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  }
}

// A snapshot of a video (a dermatoscope or otoscope used as a camera), filed into the record.
async function share(blob, name) {
  const form = new FormData();
  form.append("file", blob, name);
  const response = await fetch(config.shareUrl, {
    method: "POST",
    body: form,
    credentials: "same-origin",
    headers: { "X-CSRFToken": config.csrf },
  });
  const data = await response.json();
  say(response.ok ? interpolate(gettext("Versé au dossier : %(name)s"), { name: data.name }, true) : data.detail);
  if (response.ok && data.url) listDocument(data);
  setTimeout(renderStatus, 4000);
}

// A professional's own panel lists what they filed at once (the others read the chat line).
function listDocument(doc) {
  const list = $("patient-documents");
  if (!list) return;
  $("no-documents")?.remove();
  const link = document.createElement("a");
  link.href = doc.url;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = doc.name;
  const item = document.createElement("li");
  item.append(link);
  list.append(item);
}

// `name`: whose video, read after the visible word (the accessible name starts with « Photo »).
function snapshotButton(tile, video, name) {
  if (!config.shareUrl) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "snap secondary";
  button.textContent = gettext("Photo");
  button.setAttribute("aria-label", name);
  button.onclick = () => {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => blob && share(blob, `cliche-${Date.now()}.jpg`), "image/jpeg", 0.92);
  };
  tile.append(button);
}

// `generation`: of the connection with this peer (0 for the first).
function meet(peer, generation = 0) {
  if (state.peers.has(peer.id)) return state.peers.get(peer.id);
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  const tile = document.createElement("figure");
  tile.className = "tile remote";
  tile.dataset.peer = peer.id;
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  const caption = document.createElement("figcaption");
  caption.id = `caption-${peer.id}`;
  caption.textContent = peerName(peer);
  video.setAttribute("aria-labelledby", caption.id);
  tile.setAttribute("aria-labelledby", caption.id);
  tile.append(video, caption);
  snapshotButton(tile, video, interpolate(gettext("Photo de la vidéo de %(name)s"), { name: peer.label }, true));
  videos.append(tile);
  countFrames(video);
  const entry = {
    id: peer.id, pc, polite: olderThan(state.me, peer), makingOffer: false, ignoreOffer: false,
    tile, video, label: peer.label, iceRestarts: 0, lost: false, peer, generation,
  };
  state.peers.set(peer.id, entry);
  entry.signal = (message) => send({ ...message, data: { ...message.data, generation } });

  pc.ontrack = ({ track, streams }) => {
    video.srcObject = streams[0] || new MediaStream([track]);
  };
  pc.onicecandidate = ({ candidate }) => {
    entry.signal({ type: "signal", to: peer.id, data: { candidate } });
  };
  offerWhenNeeded(entry, entry.signal);
  pc.oniceconnectionstatechange = () => {
    watchIce(entry);
    renderStatus();
  };
  // Negotiated but ICE never started (candidates lost on the way): gather and send them anew.
  const watchdog = setInterval(() => {
    if (state.peers.get(peer.id) !== entry || pc.connectionState === "closed") clearInterval(watchdog);
    else if (pc.iceConnectionState === "new" && pc.signalingState === "stable" && pc.remoteDescription) restartIce(entry);
  }, 3000);
  // The newer peer offers first; the older (polite) one sends its tracks in its answer, so the
  // two never offer at once (a rolled-back offer can leave its ICE gathering stranded).
  if (!entry.polite) sendTracks(entry);
  // The peer learns of this connection even if we have nothing to offer.
  entry.signal({ type: "signal", to: peer.id, data: { hello: true } });
  for (const data of state.early.get(peer.id) || []) onSignal(peer.id, data);
  state.early.delete(peer.id);
  renderStatus();
  return entry;
}

function restartIce(entry) {
  entry.iceRestarts += 1;
  entry.pc.restartIce();
}

// A network loss without leaving the call: the side that offers (the newer one) restarts ICE,
// after 2 s of "disconnected" or at once when ICE failed, and the other side answers; so the
// two never restart at once. The polite side restarts only a call that stays failed (a peer
// that never restarts). The restarting side has the cut and the recovery recorded on the act.
const RESTART_AFTER_MS = 2000;
const POLITE_RESTART_AFTER_MS = 6000;

function watchIce(entry) {
  const { pc } = entry;
  const ice = pc.iceConnectionState;
  if (ice === "connected" || ice === "completed") {
    if (entry.lost) send({ type: "media", to: entry.id, state: "restored" });
    if (entry.cut) announce(interpolate(gettext("Image et son de %(name)s rétablis."), { name: entry.label }, true));
    entry.lost = false;
    entry.cut = false;
    return;
  }
  if (ice !== "disconnected" && ice !== "failed") return;
  if (!entry.cut) {
    entry.cut = true;
    announce(interpolate(gettext("Image et son de %(name)s interrompus : reconnexion…"), { name: entry.label }, true));
  }
  if (entry.polite && ice !== "failed") return;
  const wait = entry.polite ? POLITE_RESTART_AFTER_MS : ice === "failed" ? 0 : RESTART_AFTER_MS;
  setTimeout(() => {
    if (state.peers.get(entry.id) !== entry || pc.iceConnectionState !== ice) return;
    if (!entry.lost) send({ type: "media", to: entry.id, state: "lost" });
    entry.lost = true;
    restartIce(entry);
  }, wait);
}

function sendTracks(entry) {
  if (entry.sending) return;
  entry.sending = true;
  for (const track of state.stream.getTracks()) entry.pc.addTrack(track, state.stream);
}

// Signals of one peer are handled one after the other: a candidate that overtook the
// description it belongs to would be refused and lost.
function onSignal(from, data) {
  if (!data) return;
  let entry = state.peers.get(from);
  if (!entry) {
    // A signal may overtake the news that its sender joined: keep it until we meet them.
    const early = state.early.get(from) || [];
    if (early.length < 100) early.push(data);
    state.early.set(from, early);
    return;
  }
  const generation = data.generation ?? entry.generation;
  if (generation < entry.generation) return; // from a connection replaced since
  // The peer set up a new connection with us (it lost ours): ours is replaced to meet it.
  if (generation > entry.generation) entry = renew(entry, generation);
  const ours = entry;
  ours.queue = (ours.queue || Promise.resolve()).then(
    () => handleSignal(ours, data, () => sendTracks(ours), ours.signal),
  );
}

// A call that cannot go on (failed, or negotiated while our signalling was lost) is replaced by
// a new connection with the same peer, of the next generation; the peer replaces its own on
// hearing of it.
function renew(entry, generation = entry.generation + 1) {
  drop(entry);
  return meet(entry.peer, generation);
}

const healthy = (entry) => entry.pc.connectionState === "connected" && entry.pc.signalingState === "stable";

function drop(entry) {
  entry.pc.close();
  entry.tile.remove();
  state.peers.delete(entry.id);
}

// `announced`: say that this peer left (not when we leave or lose the connection ourselves).
function forget(id, announced = false) {
  state.early.delete(id);
  const entry = state.peers.get(id);
  if (!entry) return;
  if (announced) announce(interpolate(gettext("%(name)s a quitté l'appel."), { name: entry.label }, true));
  drop(entry);
  renderStatus();
}

function forgetAll() {
  for (const id of [...state.peers.keys()]) forget(id);
}

function renderStatus() {
  if (!state.admitted) return;
  const n = state.peers.size;
  say(n === 0
    ? gettext("Dans la salle : en attente des autres participants.")
    : interpolate(gettext("En communication (%(count)s participants)."), { count: n + 1 }, true));
}

// Connection quality from getStats: round trip and packet loss of the video received.
async function measureQuality() {
  const parts = [];
  for (const entry of state.peers.values()) {
    const stats = await entry.pc.getStats();
    let rtt = null;
    let lost = 0;
    let received = 0;
    stats.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime;
      if (s.type === "inbound-rtp" && s.kind === "video") {
        lost += s.packetsLost || 0;
        received += s.packetsReceived || 0;
      }
    });
    const loss = received + lost ? (100 * lost) / (received + lost) : 0;
    parts.push(interpolate(
      gettext("%(name)s : %(rtt)s, pertes %(loss)s %"),
      { name: entry.label, rtt: rtt === null ? "—" : `${Math.round(rtt * 1000)} ms`, loss: loss.toFixed(1) },
      true,
    ));
  }
  $("quality").textContent = interpolate(gettext("Qualité : %(measures)s"), { measures: parts.length ? parts.join(" · ") : "—" }, true);
}

// Waiting room, chat --------------------------------------------------------------------------

// Who was waiting at the last list, to announce only the new ones.
const waitingSeen = new Set();

function renderWaiting(peers) {
  const list = $("waiting-list");
  if (!list) return;
  for (const peer of peers) {
    if (!waitingSeen.has(peer.id)) announce(interpolate(gettext("%(name)s attend dans la salle d'attente."), { name: peerName(peer) }, true));
  }
  waitingSeen.clear();
  peers.forEach((peer) => waitingSeen.add(peer.id));
  // A keyboard user who just admitted someone keeps a place: the next « Admettre », or the title.
  const hadFocus = list.contains(document.activeElement);
  list.replaceChildren();
  if (!peers.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = gettext("Personne pour l'instant.");
    list.append(li);
    if (hadFocus) $("waiting-title").focus();
    return;
  }
  for (const peer of peers) {
    const li = document.createElement("li");
    li.className = "waiting-peer";
    const name = document.createElement("span");
    name.textContent = `${peerName(peer)} `;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = gettext("Admettre");
    button.setAttribute("aria-label", interpolate(gettext("Admettre %(name)s"), { name: peer.label }, true));
    button.onclick = () => send({ type: "admit", id: peer.id });
    li.append(name, button);
    list.append(li);
  }
  if (hadFocus) list.querySelector("button").focus();
}

function showChat(message) {
  const li = document.createElement("li");
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = message.author;
  const body = document.createElement("span");
  body.textContent = message.body;
  li.append(who, body);
  $("chat-log").append(li);
  const region = $("chat-region");
  region.scrollTop = region.scrollHeight;
}

function setAdmitted(admitted) {
  state.admitted = admitted;
  $("waiting-panel").hidden = admitted;
  $("room").dataset.state = admitted ? "in-call" : "waiting";
  for (const el of $("chat-form").elements) el.disabled = !admitted;
}

// Admitted (again): the calls kept through a lost socket go on with the peers still there, if
// they are sound; the others are set up, and the peers who left meanwhile are forgotten.
function rejoin(peers) {
  const present = new Set(peers.map((p) => p.id));
  for (const id of [...state.peers.keys()]) if (!present.has(id)) forget(id, true);
  for (const peer of peers) {
    const kept = state.peers.get(peer.id);
    if (!kept) meet(peer);
    else {
      kept.peer = peer;
      if (!healthy(kept)) renew(kept);
    }
  }
}

// Signaling WebSocket -------------------------------------------------------------------------

async function connect() {
  let token;
  try {
    const response = await fetch(config.tokenUrl, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      say(response.status === 403 ? gettext("Votre lien d'accès n'est plus valide.") : gettext("Accès à la salle refusé."));
      return;
    }
    token = (await response.json()).token;
  } catch (err) {
    retry();
    return;
  }
  const ws = roomSocket(config.wsPath, token, state.resume ? { resume: state.resume } : {});
  state.ws = ws;
  ws.onopen = () => {
    state.retryDelay = 500;
    if (state.lostConnection) announce(gettext("Connexion rétablie."));
    state.lostConnection = false;
  };
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = (event) => {
    if (ws !== state.ws) return;
    setAdmitted(false);
    $("room").dataset.state = "reconnecting";
    // The calls go on without signalling until the socket is back, unless this is the end.
    if (state.leaving || [4403, 4000, 4409].includes(event.code)) forgetAll();
    if (state.leaving) return;
    if (event.code === 4403) {
      say(gettext("Accès à la salle refusé."));
      return;
    }
    if (event.code === 4000) {
      say(gettext("Vous avez rejoint la salle depuis une autre fenêtre."));
      return;
    }
    if (event.code === 4409) {
      say(gettext("La salle est complète (quatre participants au plus)."));
      return;
    }
    state.lostConnection = true;
    say(gettext("Connexion perdue : reconnexion…"));
    retry();
  };
}

function retry() {
  setTimeout(connect, state.retryDelay);
  state.retryDelay = Math.min(state.retryDelay * 2, 10000);
}

function handle(msg) {
  switch (msg.type) {
    case "welcome":
      // Not resumed (a new peer id): the others will meet a newcomer, our calls are over.
      if (state.me && state.me.id !== msg.me.id) forgetAll();
      state.me = msg.me;
      state.resume = msg.resume;
      state.iceServers = msg.ice_servers;
      break;
    case "waiting":
      state.waited = true;
      forgetAll();
      setAdmitted(false);
      say(gettext("En salle d'attente."));
      break;
    case "admitted":
      state.me = msg.me;
      if (state.waited) announce(gettext("Vous êtes admis·e dans l'appel."));
      state.waited = false;
      setAdmitted(true);
      $("chat-log").replaceChildren();
      msg.chat.forEach(showChat);
      rejoin(msg.peers);
      renderStatus();
      break;
    case "peer-joined": {
      const known = state.peers.get(msg.peer.id);
      if (!known) {
        announce(interpolate(gettext("%(name)s a rejoint l'appel."), { name: peerName(msg.peer) }, true));
        meet(msg.peer);
        break;
      }
      // The same peer back after losing its socket: our call with it goes on if sound; if not,
      // what we sent it meanwhile went to its lost socket, and the call is set up anew.
      known.peer = msg.peer;
      if (!healthy(known)) renew(known);
      break;
    }
    case "peer-left":
      forget(msg.id, true);
      break;
    case "signal":
      onSignal(msg.from, msg.data);
      break;
    case "chat":
      showChat(msg.message);
      break;
    case "waiting-list":
      renderWaiting(msg.peers);
      break;
    default:
      break;
  }
}

// Page wiring ---------------------------------------------------------------------------------

snapshotButton(localVideo.parentElement, localVideo, gettext("Photo de votre caméra"));
const fileInput = $("share-file");
if (fileInput && config.shareUrl) {
  fileInput.parentElement.hidden = false;
  fileInput.onchange = () => {
    for (const file of fileInput.files) share(file, file.name);
    fileInput.value = "";
  };
}
$("btn-mic").onclick = (e) => toggle("audio", e.currentTarget, {
  onLabel: gettext("Couper le micro"), offLabel: gettext("Rétablir le micro"),
  nowOff: gettext("Micro coupé."), nowOn: gettext("Micro rétabli."),
});
$("btn-cam").onclick = (e) => toggle("video", e.currentTarget, {
  onLabel: gettext("Couper la caméra"), offLabel: gettext("Rétablir la caméra"),
  nowOff: gettext("Caméra coupée."), nowOn: gettext("Caméra rétablie."),
});
$("camera-select").onchange = (e) => switchDevice("video", e.target.value);
$("mic-select").onchange = (e) => switchDevice("audio", e.target.value);
navigator.mediaDevices.addEventListener("devicechange", fillDevices);
$("btn-leave").onclick = () => {
  state.leaving = true;
  send({ type: "leave" });
  forgetAll();
  state.stream.getTracks().forEach((t) => t.stop());
  say(gettext("Vous avez quitté la salle."));
};
$("chat-form").onsubmit = (event) => {
  event.preventDefault();
  const input = $("chat-input");
  if (input.value.trim()) send({ type: "chat", body: input.value });
  input.value = "";
};
const reportForm = $("report-form");
if (reportForm) {
  // The report is saved beside the call: the page (and the call) stay.
  reportForm.onsubmit = async (event) => {
    event.preventDefault();
    const response = await fetch(reportForm.action, {
      method: "POST",
      body: new FormData(reportForm),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const data = await response.json();
    const result = $("report-result");
    result.replaceChildren();
    result.textContent = data.message;
    if (data.pdf_url) {
      const link = document.createElement("a");
      link.href = data.pdf_url;
      link.id = "report-pdf";
      link.textContent = " " + gettext("Télécharger le PDF");
      result.append(link);
    }
  };
}
// Back on a network: new paths may exist (the offering side looks for them).
window.addEventListener("online", () => {
  for (const entry of state.peers.values()) if (!entry.polite) restartIce(entry);
});
window.addEventListener("pagehide", () => {
  state.leaving = true;
  send({ type: "leave" });
});

(async () => {
  state.stream = await startMedia({ video: true, audio: true });
  localVideo.srcObject = state.stream;
  await fillDevices();
  setInterval(measureQuality, 2000);
  connect();
})();
