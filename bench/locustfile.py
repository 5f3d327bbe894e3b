"""The mix a region's platform sees at a busy hour, for `bench/run_capacity.py`: professionals
reading their work list, searching patients, opening their télé-expertise boxes, requests and
téléconsultations, through the pages and the API; device gateways posting measurement batches.
The setup (sessions, tokens, search terms, devices) comes from CAPACITY_SETUP (JSON)."""

import datetime
import json
import os
import random

import urllib3
from locust import HttpUser, between, constant, task

urllib3.disable_warnings()
SETUP = json.loads(open(os.environ["CAPACITY_SETUP"]).read())  # noqa: SIM115


class Professional(HttpUser):
    """Pages with a session, the API with a token; 1 to 3 seconds between two clicks."""

    weight = 9
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.verify = False
        me = random.choice(SETUP["professionals"])
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


class Bare(HttpUser):
    """Baseline: the liveness probe, which touches no database, at the same pace."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.verify = False

    @task
    def live(self) -> None:
        self.client.get("/healthz/live", name="baseline: /healthz/live")
