"""The mix a region's platform sees at a busy hour, for `bench/run_capacity.py`: professionals
reading their work list, searching patients, opening their télé-expertise boxes, requests and
téléconsultations, through the pages and the API, and booking a téléconsultation on a doctor's
free slot; device gateways posting measurement batches; pairs of professionals in a call's room,
whose WebSockets carry the call's signalling and chat. The setup (sessions, tokens, search
terms, devices, free slots, rooms) comes from CAPACITY_SETUP (JSON)."""

import datetime
import json
import os
import random
import re
import ssl
import time
from urllib.parse import urlencode, urlsplit

import urllib3
from locust import HttpUser, between, constant, task
from websockets.sync.client import connect

urllib3.disable_warnings()
SETUP = json.loads(open(os.environ["CAPACITY_SETUP"]).read())  # noqa: SIM115
BY_ID = {p["id"]: p for p in SETUP["professionals"]}
# Free slots by doctor, shared by this process's users: one slot is never booked twice at once.
SLOTS: dict[int, list[str]] = {}
for _slot in SETUP["slots"]:
    SLOTS.setdefault(_slot["performer"], []).append(_slot["at"])
for _free in SLOTS.values():
    random.shuffle(_free)
ROOMS = list(SETUP["rooms"])  # one room to a pair of users
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# nginx hands the application the host without the port, as browsers on port 443 send it.
ORIGIN = "https://127.0.0.1"


class Professional(HttpUser):
    """Pages with a session, the API with a token; 1 to 3 seconds between two clicks."""

    weight = 9
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.verify = False
        me = self.me = random.choice(SETUP["professionals"])
        self.page_headers = {"Cookie": f"sessionid={me['session']}"}
        self.api_headers = {"Authorization": f"Bearer {me['token']}"}
        self.acts: list[int] = []

    def page(self, url: str, name: str) -> None:
        self.client.get(url, headers=self.page_headers, name=name)

    def api(self, url: str, name: str):
        return self.client.get(url, headers=self.api_headers, name=name)

    @task(3)
    def work_list(self) -> None:
        self.page("/", "page: accueil (liste de travail)")

    @task(3)
    def search_page(self) -> None:
        term = random.choice(SETUP["terms"])
        self.page(f"/patients/recherche/?q={term}", "page: recherche de patients")

    @task(2)
    def search_api(self) -> None:
        term = random.choice(SETUP["terms"])
        self.api(f"/api/v1/patients?q={term}&limit=20", "api: recherche de patients")

    @task(2)
    def boxes(self) -> None:
        self.page("/teleexpertise/", "page: boîtes de télé-expertise")

    @task(2)
    def inbox_api(self) -> None:
        response = self.api("/api/v1/teleexpertise?limit=20", "api: boîte de télé-expertise")
        if response.ok:
            self.acts = [item["id"] for item in response.json()][:20]

    @task(2)
    def open_request(self) -> None:
        if self.acts:
            act = random.choice(self.acts)
            self.page(f"/teleexpertise/{act}/", "page: une demande de télé-expertise")

    @task(1)
    def consultations(self) -> None:
        self.api("/api/v1/teleconsultations?limit=20", "api: téléconsultations")

    @task(1)
    def consultations_page(self) -> None:
        self.page("/teleconsultations/", "page: téléconsultations")

    @task(1)
    def book(self) -> None:
        """The booking page with a doctor's free slots, the slot booked (the form posted), the
        act's page, then the act cancelled (its slot free again for the next booking)."""
        plan = self.me["booking"]
        doctors = [d for d, free in SLOTS.items() if free and d != self.me["id"]]
        if plan is None or not doctors:
            return
        doctor = random.choice(doctors)
        at = SLOTS[doctor].pop()
        chosen = {**plan, "performer": doctor, "kind": "teleconsultation"}
        url = f"/teleconsultations/nouvelle/?{urlencode(chosen)}"
        form = self.client.get(url, headers=self.page_headers, name="page: réservation (créneaux)")
        token = CSRF.search(form.text) if form.ok else None
        if token is None:
            SLOTS[doctor].append(at)
            return
        headers = {
            "Cookie": f"sessionid={self.me['session']}; csrftoken={form.cookies['csrftoken']}",
            "Origin": ORIGIN,
            "X-CSRFToken": token.group(1),
        }
        booked = self.post_form(
            "/teleconsultations/nouvelle/",
            {
                **chosen,
                "scheduled_at": at,
                "reason": "Suivi de plaie",
                "information_given": "on",
                "decision": "consent",
                "assistance": "",
                "duration_minutes": "20",
            },
            headers,
            "page: réserver un créneau",
        )
        if booked is None:
            SLOTS[doctor].append(at)
            return
        self.client.get(booked, headers=self.page_headers, name="page: un acte programmé")
        cancel = f"{booked}annuler/"
        if self.post_form(cancel, {"reason": "Patient hospitalisé"}, headers, "page: annuler"):
            SLOTS[doctor].append(at)

    def post_form(self, url: str, data: dict, headers: dict, name: str) -> str | None:
        """A form posted: where the page sends its user back to, or None if it did not take."""
        with self.client.post(
            url, data=data, headers=headers, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return None
            return urlsplit(response.headers["Location"]).path


class Gateway(HttpUser):
    """A device gateway: a batch of 100 measurements every 5 seconds."""

    weight = 1
    wait_time = constant(5)

    def on_start(self) -> None:
        self.client.verify = False
        self.headers = {
            "Authorization": f"Bearer {SETUP['gateway_token']}",
            "Content-Type": "application/json",
        }
        self.sent = 0

    @task
    def post_batch(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        batch = []
        for n in range(100):
            device = random.choice(SETUP["devices"])
            self.sent += 1
            batch.append(
                {
                    "id": f"cap-{os.getpid()}-{id(self)}-{self.sent}",
                    "device": device["serial"],
                    "type": device["type"],
                    "value": device["value"],
                    "unit": device["unit"],
                    "at": (now - datetime.timedelta(seconds=n)).isoformat(),
                }
            )
        self.client.post(
            "/api/v1/telesurveillance/measurements",
            data=json.dumps({"measurements": batch}),
            headers=self.headers,
            name="api: lot de mesures",
        )


TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
# A call's setup: offer and answer, then the ICE candidates each side gathers (host, server
# reflexive, relay, for audio and video).
CANDIDATES = 8
SDP = "v=0\r\n" + "a=x:" + "0" * 3000  # a browser's offer is 3 to 6 kB
CALL_SECONDS, CHAT_EVERY = 30, 10


class Refused(Exception):
    pass


class RoomPair(HttpUser):
    """Two professionals in the room of a booked téléconsultation, as their pages do: each asks
    the API for a room token, the doctor (host) enters and admits the other from the waiting
    room (the room's first call only: the platform keeps a party's admission, so later calls
    are rejoins), then the call is set up (offer, answer, candidates relayed) and they chat
    every 10 s for 30 s, leave, and call again a few seconds later. Each exchange is timed from
    the send on one socket to its arrival on the other."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.client.verify = False
        self.room = ROOMS.pop() if ROOMS else None
        self.sockets: list = []

    def on_stop(self) -> None:
        self.hang_up()
        if self.room is not None:
            ROOMS.append(self.room)

    def hang_up(self) -> None:
        for ws in self.sockets:
            try:
                ws.send(json.dumps({"type": "leave"}))
                ws.close()
            except Exception:  # already gone: nothing to leave
                pass
        self.sockets = []

    def record(self, name: str, started: float, error: Exception | None = None) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def enter(self, party: int):
        response = self.client.post(
            f"/api/v1/rooms/{self.room['slug']}/token",
            json={},
            headers={"Authorization": f"Bearer {BY_ID[party]['token']}"},
            name="api: jeton de salle",
        )
        if not response.ok:
            raise Refused
        host = urlsplit(self.host).netloc
        ws = connect(
            f"wss://{host}{response.json()['ws_path']}?token={response.json()['token']}",
            ssl=TLS,
            origin=ORIGIN,
            proxy=None,
            open_timeout=10,
        )
        self.sockets.append(ws)
        return ws

    @staticmethod
    def expect(ws, *kinds: str, accept=lambda msg: True) -> dict:
        """The next message of one of these kinds; the others are passed over. Ten seconds at
        most: a step not done by then is an error."""
        deadline = time.monotonic() + 10
        while True:
            msg = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if msg["type"] in kinds and accept(msg):
                return msg

    def relay(self, sender, receiver, message: dict, kind: str, name: str) -> None:
        started = time.perf_counter()
        sender.send(json.dumps(message))
        self.expect(receiver, kind)
        self.record(name, started)

    @task
    def call(self) -> None:
        if self.room is None:
            return
        step = "ws: entrer (hôte)"
        started = time.perf_counter()
        try:
            host = self.enter(self.room["performer"])
            self.expect(host, "admitted")
            self.record(step, started)
            step, started = "ws: entrer (l'autre partie)", time.perf_counter()
            guest = self.enter(self.room["requester"])
            news = self.expect(guest, "waiting", "admitted")
            if news["type"] == "waiting":  # the room's first call: the host admits the other
                waiting = self.expect(host, "waiting-list", accept=lambda msg: msg["peers"])
                host.send(json.dumps({"type": "admit", "id": waiting["peers"][0]["id"]}))
                news = self.expect(guest, "admitted")
            to_host = news["peers"][0]["id"]
            to_guest = self.expect(host, "peer-joined")["peer"]["id"]
            self.record(step, started)
            step = "ws: signal relayé"
            offer = {"type": "offer", "sdp": SDP}
            self.relay(host, guest, signal(to_guest, {"description": offer}), "signal", step)
            answer = {"type": "answer", "sdp": SDP}
            self.relay(guest, host, signal(to_host, {"description": answer}), "signal", step)
            for n in range(CANDIDATES):
                candidate = {"candidate": f"candidate:{n} 1 udp 2122260223 10.0.0.{n} 50 typ host"}
                self.relay(host, guest, signal(to_guest, candidate), "signal", step)
                self.relay(guest, host, signal(to_host, candidate), "signal", step)
            step = "ws: message de chat"
            for n in range(CALL_SECONDS // CHAT_EVERY):
                time.sleep(CHAT_EVERY)
                sender, receiver = (host, guest) if n % 2 == 0 else (guest, host)
                chat = {"type": "chat", "body": f"Message {n} : tension à revoir."}
                self.relay(sender, receiver, chat, "chat", step)
        except Refused:  # shed or refused: counted with its HTTP request
            pass
        except Exception as error:  # timed out, closed: an error of the step
            self.record(step, started, error)
        finally:
            self.hang_up()


def signal(to: str, data: dict) -> dict:
    return {"type": "signal", "to": to, "data": data}


class Bare(HttpUser):
    """Baseline: the liveness probe, which touches no database, at the same pace."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.verify = False

    @task
    def live(self) -> None:
        self.client.get("/healthz/live", name="baseline: /healthz/live")
