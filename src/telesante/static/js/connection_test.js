// "Test my connection": camera and microphone, then ten round trips through the server.
const $ = (id) => document.getElementById(id);

async function media() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    $("test-video").srcObject = stream;
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    audio.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    setInterval(() => {
      analyser.getByteTimeDomainData(data);
      $("test-level").value = Math.max(...data.map((v) => Math.abs(v - 128))) / 128;
    }, 200);
    $("test-media").textContent = interpolate(
      gettext("Caméra et micro disponibles (%(video)s vidéo, %(audio)s audio)."),
      { video: stream.getVideoTracks().length, audio: stream.getAudioTracks().length },
      true,
    );
  } catch (err) {
    $("test-media").textContent = gettext("Caméra ou micro indisponible : vérifiez les autorisations du navigateur.");
  }
}

function roundTrips() {
  const path = JSON.parse($("test-ws").textContent);
  const token = JSON.parse($("test-token").textContent);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}${path}?token=${encodeURIComponent(token)}`);
  const times = [];
  ws.onopen = () => ws.send(JSON.stringify({ type: "ping", t: performance.now() }));
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type !== "pong") return;
    times.push(performance.now() - msg.t);
    if (times.length < 10) {
      ws.send(JSON.stringify({ type: "ping", t: performance.now() }));
      return;
    }
    times.sort((a, b) => a - b);
    $("test-rtt").textContent = interpolate(
      gettext("Aller-retour médian par le serveur : %(ms)s ms (10 mesures). Connexion prête."),
      { ms: Math.round(times[5]) },
      true,
    );
    ws.send(JSON.stringify({ type: "leave" }));
  };
  ws.onerror = () => { $("test-rtt").textContent = gettext("Le serveur de visioconférence est injoignable (réseau ou pare-feu)."); };
}

media();
roundTrips();
