// The room's signalling WebSocket and the perfect negotiation of one RTCPeerConnection with one
// peer, shared by the rooms (room.js) and télérégulation (regulation_call.js). `entry`: {id, pc, polite, makingOffer, ignoreOffer};
// `send(message)` sends over the room's signalling WebSocket.

// The room's WebSocket, authenticated by a short-lived token (asked again for each connection);
// `params`: more of the query: `resume`, the resume token of the previous connection, to come
// back as the same peer; the caller's `consent`.
export function roomSocket(wsPath, token, params = {}) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = new URLSearchParams({ token, ...params });
  return new WebSocket(`${scheme}://${location.host}${wsPath}?${query}`);
}

// The offer when the connection needs one (tracks or a data channel added, ICE restarted).
export function offerWhenNeeded(entry, send) {
  entry.pc.onnegotiationneeded = async () => {
    try {
      entry.makingOffer = true;
      await entry.pc.setLocalDescription();
      send({ type: "signal", to: entry.id, data: { description: entry.pc.localDescription } });
    } catch (err) {
      console.error(err);
    } finally {
      entry.makingOffer = false;
    }
  };
}

// A description or an ICE candidate from the peer. The impolite side ignores an offer that
// collides with its own; an offer is answered after `sendTracks()` adds our tracks to it.
export async function handleSignal(entry, data, sendTracks, send) {
  const { pc } = entry;
  try {
    if (data.description) {
      const offerCollision = data.description.type === "offer" &&
        (entry.makingOffer || pc.signalingState !== "stable");
      entry.ignoreOffer = !entry.polite && offerCollision;
      if (entry.ignoreOffer) return;
      await pc.setRemoteDescription(data.description);
      if (data.description.type === "offer") {
        sendTracks();
        await pc.setLocalDescription();
        send({ type: "signal", to: entry.id, data: { description: pc.localDescription } });
      }
    } else if (data.candidate) {
      try {
        await pc.addIceCandidate(data.candidate);
      } catch (err) {
        if (!entry.ignoreOffer) throw err;
      }
    }
  } catch (err) {
    console.error(err);
  }
}
