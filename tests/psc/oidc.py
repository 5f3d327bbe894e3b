"""The local stand-in for Pro Santé Connect: tools/oidc/psc-provider.js (npm oidc-provider) on a
free port, with PSC's test accounts below; and a login driven through it over HTTP."""

import json
import os
import select
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from telesante.core.identifiers import luhn_complete

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "oidc"
SECRET = "psc-test-secret-0123456789-abcdefghij"
SIGNED = "telesante"  # the client whose userinfo comes back as a signed JWT
PLAIN = "telesante-json"  # the client whose userinfo is plain JSON

# RPPS numbers (Luhn keys) and the national ids PSC sends: "8" + RPPS.
KNOWN_RPPS = luhn_complete("1000200020")
NEW_RPPS = luhn_complete("1000300030")
STRANGER_RPPS = luhn_complete("1000400040")
WEAK_RPPS = luhn_complete("1000500050")
KNOWN, NEWCOMER, STRANGER, WEAK = (
    f"8{r}" for r in (KNOWN_RPPS, NEW_RPPS, STRANGER_RPPS, WEAK_RPPS)
)
ADELI = "0751234567"
FINESS_A = "530000011"  # tests.conftest.world's ehpad_a


def exercice(profession: str, savoir_faire: str, finess: str) -> dict:
    """One SubjectRefPro exercice as PSC nests it."""
    return {
        "codeProfession": profession,
        "codeCategorieProfessionnelle": "C",
        "codeTypeSavoirFaire": "S",
        "codeSavoirFaire": savoir_faire,
        "activities": [
            {
                "numeroFinessSite": finess,
                "numeroSiretSite": "",
                "raisonSocialeSite": "Structure de test",
                "codeModeExercice": "S",
                "codeSecteurDactivite": "SA07",
            }
        ],
    }


def person(given: str, family: str, ex: dict, regulation: str = "FAUX", **extra) -> dict:
    return {
        "given_name": given,
        "family_name": family,
        "codeCivilite": "M",
        "SubjectRefPro": {"exercices": [ex]},
        "Acces_Regulation_Medicale": regulation,
        "Palier_Authentification": "APPPRIP3^1.2.250.1.213.1.5.1.1.1",
        **extra,
    }


ACCOUNTS = {
    KNOWN: {"claims": person("Aline", "FICTIVE", exercice("10", "SM54", FINESS_A), "VRAI")},
    NEWCOMER: {
        "claims": person(
            "Basile", "IMAGINAIRE", exercice("60", "", FINESS_A), email="basile@example.test"
        )
    },
    STRANGER: {"claims": person("Cyril", "INCONNU", exercice("10", "SM04", "990000018"))},
    WEAK: {"acr": "eidas0", "claims": person("Daphné", "FAIBLE", exercice("10", "SM54", FINESS_A))},
    ADELI: {"claims": person("Eloi", "ADELI", exercice("60", "", FINESS_A))},
}


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/wallet-openid-configuration"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def set_clock(self, offset: int) -> None:
        """Moves the provider's clock by `offset` seconds (tokens issued in the past)."""
        requests.post(f"{self.issuer}/_test/clock", json={"offset": offset}, timeout=5)

    def apps(self, client_id: str = SIGNED) -> dict:
        """SOCIALACCOUNT_PROVIDERS for it, as settings.py builds them from TELESANTE_PSC_*."""
        app = {
            "client_id": client_id,
            "secret": SECRET,
            "settings": {"server_url": self.discovery_url},
        }
        return {"psc": {"APPS": [app]}}


def require_node() -> str:
    node = shutil.which("node")
    if node and (TOOLS / "node_modules" / "oidc-provider").is_dir():
        return node
    message = "node ou tools/oidc/node_modules absent : make install (npm ci dans tools/oidc)."
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


# Node starts in about a second; it has once hung at start-up here (a futex, before listening).
START_ATTEMPTS, START_SECONDS = 3, 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp: Path, base_url: str) -> Provider:
    """The provider, its clients sending browsers back to `base_url` (our site)."""
    node = require_node()
    uris = {
        "client_secret": SECRET,
        "redirect_uris": [f"{base_url}/compte/psc/login/callback/"],
        "post_logout_redirect_uris": [f"{base_url}/compte/login/"],
    }
    clients = [
        {"client_id": SIGNED, "userinfo_signed_response_alg": "RS256", **uris},
        {"client_id": PLAIN, **uris},
    ]
    # After START_SECONDS without its line, another is started beside it on its own port, the
    # first still free to answer: a hang costs seconds, a slow start nothing.
    started: list[subprocess.Popen] = []
    try:
        for attempt in range(START_ATTEMPTS):
            path = tmp / f"psc-provider-{attempt}.json"
            config = {"port": free_port(), "clients": clients, "accounts": ACCOUNTS}
            path.write_text(json.dumps(config))
            started.append(
                subprocess.Popen(
                    [node, str(TOOLS / "psc-provider.js"), str(path)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
            outputs = {process.stdout: process for process in started}
            ready, _, _ = select.select(list(outputs), [], [], START_SECONDS)
            for process in (outputs[out] for out in ready):
                line = process.stdout.readline()
                started.remove(process)
                if line.startswith("listening "):
                    return Provider(issuer=line.split()[1], process=process)
                process.kill()  # gone without listening: its stdout is closed
                process.wait(10)
    finally:
        for process in started:  # hung, or beaten to the port
            process.kill()
            process.wait(10)
    pytest.fail(f"le fournisseur OpenID de test n'a pas démarré en {START_ATTEMPTS} essais")


def stop(provider: Provider) -> None:
    provider.process.terminate()
    provider.process.wait(timeout=10)


def authenticate_at_provider(
    browser: requests.Session, authorize_url: str, idnat: str, back_to: str
) -> str:
    """What a professional does at PSC: opens the authorization URL, gives their identity when
    asked; returns the URL PSC sends them back to (our callback). `browser` keeps PSC's
    cookies, so a second login within PSC's session asks nothing."""
    url = authorize_url
    while not url.startswith(back_to):
        if "/interaction/" in urlsplit(url).path:
            response = browser.post(f"{url}/login", data={"login": idnat}, allow_redirects=False)
        else:
            response = browser.get(url, allow_redirects=False)
        url = urljoin(url, response.headers["Location"])
    return url
