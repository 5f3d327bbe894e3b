// Télérégulation: one regulator and one caller in a room, over the rooms' signalling WebSocket
// (perfect negotiation, the earlier admitted peer is the polite one). The newer peer sends its
// tracks first and opens the "control" data channel (commands and their answers). A lost
// WebSocket reconnects with a fresh token and the resume token of the lost one: the side comes
// back as the same peer and the call goes on meanwhile (the media flows peer to peer, a phone
// changing networks keeps its video); a lost media path restarts ICE.

import { handleSignal, offerWhenNeeded, roomSocket } from "./negotiation.js";

export function startRegulationCall(hooks) {
  const config = JSON.parse(document.getElementById("call-config").textContent);
  const text = document.getElementById("call-text").dataset;
  const state = {
    ws: null, me: null, peer: null, pc: null, dc: null, polite: false, makingOffer: false,
    ignoreOffer: false, sending: false, queue: Promise.resolve(), leaving: false,
    retryDelay: 500, iceServers: [], stream: hooks.stream, lastBytes: null,
    resume: "", // what the server handed this connection to come back as the same peer
  };
  window.regulationCall = state; // tests and support read the call's state from the console

  const send = (message) => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  };
  state.command = (message) => {
    if (state.dc && state.dc.readyState === "open") {
      state.dc.send(JSON.stringify(message));
      return true;
    }
    return false;
  };

  function wireChannel(dc) {
    state.dc = dc;
    dc.onopen = () => hooks.channelOpen && hooks.channelOpen();
    dc.onmessage = (event) => hooks.command(JSON.parse(event.data));
  }

  function sendTracks() {
    if (state.sending) return;
    state.sending = true;
    for (const track of state.stream.getTracks()) state.pc.addTrack(track, state.stream);
  }

  function meet(peer) {
    forget();
    const pc = new RTCPeerConnection({ iceServers: state.iceServers });
    state.pc = pc;
    state.peer = peer;
    state.id = peer.id;
    state.sending = false;
    state.queue = Promise.resolve();
    state.polite = state.me.rank < peer.rank || (state.me.rank === peer.rank && state.me.id < peer.id);
    pc.ontrack = ({ track, streams }) => {
      hooks.remoteVideo.srcObject = streams[0] || new MediaStream([track]);
    };
    pc.onicecandidate = ({ candidate }) => send({ type: "signal", to: peer.id, data: { candidate } });
    offerWhenNeeded(state, send);
    pc.oniceconnectionstatechange = () => {
      const ice = pc.iceConnectionState;
      if (ice === "connected" || ice === "completed") hooks.status(text.connected);
      if (ice === "failed" && !state.polite) pc.restartIce();
    };
    pc.ondatachannel = ({ channel }) => wireChannel(channel);
    if (!state.polite) {
      wireChannel(pc.createDataChannel("control"));
      sendTracks();
    }
  }

  // The same peer after a lost socket (theirs or ours): the call goes on. The impolite side
  // restarts a failed media path, and sends again an offer its lost socket may have swallowed.
  function keep(peer) {
    if (!state.pc || !state.peer || state.peer.id !== peer.id) return false;
    state.peer = peer;
    const pc = state.pc;
    if (!state.polite && pc.signalingState === "have-local-offer") {
      send({ type: "signal", to: peer.id, data: { description: pc.localDescription } });
    } else if (!state.polite && ["failed", "disconnected"].includes(pc.iceConnectionState)) {
      pc.restartIce();
    }
    if (["connected", "completed"].includes(pc.iceConnectionState)) hooks.status(text.connected);
    return true;
  }

  function forget() {
    if (state.pc) state.pc.close();
    state.pc = null;
    state.peer = null;
    state.dc = null;
  }

  async function connect() {
    // The page's own token serves the first connection only (it may be stale by then).
    let token = config.token;
    const fromPage = Boolean(token);
    config.token = "";
    if (!token) {
      try {
        const response = await fetch(config.tokenUrl, { credentials: "same-origin", cache: "no-store" });
        if (!response.ok) {
          hooks.status(text.refused);
          if (hooks.refused) hooks.refused();
          return;
        }
        token = (await response.json()).token;
      } catch (err) {
        retry();
        return;
      }
    }
    // The caller's acceptance travels with each join (recorded once): it admits them at once.
    const params = hooks.consent ? { consent: hooks.consent } : {};
    if (state.resume) params.resume = state.resume;
    const ws = roomSocket(config.wsPath, token, params);
    state.ws = ws;
    ws.onopen = () => { state.retryDelay = 500; };
    ws.onmessage = (event) => handle(JSON.parse(event.data));
    ws.onclose = (event) => {
      if (ws !== state.ws) return;
      // The call goes on without signalling until the socket is back, unless this is the end.
      if (state.leaving || [4403, 4000, 4409].includes(event.code)) forget();
      if (state.leaving) return;
      if (event.code === 4403 && !fromPage) {
        hooks.status(text.refused);
        if (hooks.refused) hooks.refused();
        return;
      }
      hooks.status(text.reconnecting);
      retry();
    };
  }

  function retry() {
    setTimeout(connect, state.retryDelay);
    state.retryDelay = Math.min(state.retryDelay * 2, 8000);
  }

  function handle(msg) {
    if (msg.type === "welcome") {
      // Not resumed (a new peer id): the other side meets a newcomer, this call is over.
      if (state.me && state.me.id !== msg.me.id) forget();
      state.me = msg.me;
      state.resume = msg.resume;
      state.iceServers = msg.ice_servers;
    } else if (msg.type === "admitted") {
      state.me = msg.me;
      hooks.status(text.waiting);
      if (hooks.admitted) hooks.admitted();
      const peer = msg.peers[0];
      if (!peer) forget();
      else if (!keep(peer)) meet(peer);
    } else if (msg.type === "peer-joined") {
      if (!keep(msg.peer)) meet(msg.peer);
    } else if (msg.type === "peer-left") {
      if (state.peer && state.peer.id === msg.id) {
        forget();
        hooks.status(text.waiting);
      }
    } else if (msg.type === "signal" && state.peer && msg.from === state.peer.id) {
      state.queue = state.queue.then(() => handleSignal(state, msg.data, sendTracks, send));
    }
    // The regulator's screen admits nobody: only the caller's consent, carried by their join,
    // lets them in.
  }


  // Network quality from getStats: round trip, loss and bitrate of the video received.
  state.quality = async () => {
    if (!state.pc) return null;
    const stats = await state.pc.getStats();
    let rtt = null;
    let lost = 0;
    let received = 0;
    let bytes = 0;
    let frames = 0;
    stats.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime;
      if (s.type === "inbound-rtp" && s.kind === "video") {
        lost += s.packetsLost || 0;
        received += s.packetsReceived || 0;
        bytes += s.bytesReceived || 0;
        frames += s.framesDecoded || 0;
      }
    });
    const now = performance.now();
    let kbps = null;
    if (state.lastBytes) kbps = (8 * (bytes - state.lastBytes.bytes)) / (now - state.lastBytes.at);
    state.lastBytes = { bytes, at: now };
    const loss = received + lost ? (100 * lost) / (received + lost) : 0;
    return { rtt, loss, kbps, frames };
  };
  state.framesDecoded = async () => ((await state.quality()) || { frames: 0 }).frames;

  state.leave = () => {
    state.leaving = true;
    send({ type: "leave" });
    forget();
  };
  window.addEventListener("online", () => { if (state.pc && !state.polite) state.pc.restartIce(); });
  window.addEventListener("pagehide", () => send({ type: "leave" }));
  connect();
  return state;
}
