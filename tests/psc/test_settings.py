"""TELESANTE_PSC_* as settings.py reads them: nothing without them, PSC's discovery name with."""

import json
import os
import subprocess
import sys

PRINT = (
    "import json; from django.conf import settings; print(json.dumps(["
    "settings.SOCIALACCOUNT_PROVIDERS['psc']['APPS'], "
    "settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']]))"
)


def read_settings(**psc: str) -> list:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELESANTE_")}
    env.update(TELESANTE_DEBUG="1", DJANGO_SETTINGS_MODULE="telesante.settings", **psc)
    out = subprocess.run(
        [sys.executable, "-c", PRINT], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_off_when_unset():
    assert read_settings() == [[], ["'self'"]]
    # An issuer without a client id is not enough.
    issuer = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet"
    assert read_settings(TELESANTE_PSC_ISSUER=issuer)[0] == []


def test_issuer_client_and_origins():
    issuer = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/"
    apps, form_action = read_settings(
        TELESANTE_PSC_ISSUER=issuer,
        TELESANTE_PSC_CLIENT_ID="telesante-bas",
        TELESANTE_PSC_CLIENT_SECRET="secret",
    )
    assert apps == [
        {
            "client_id": "telesante-bas",
            "secret": "secret",
            "settings": {"server_url": f"{issuer}.well-known/wallet-openid-configuration"},
        }
    ]
    assert form_action == ["'self'", "https://auth.bas.psc.esante.gouv.fr"]
    origins = "https://wallet.bas.psc.esante.gouv.fr https://auth.bas.psc.esante.gouv.fr"
    _apps, form_action = read_settings(
        TELESANTE_PSC_DISCOVERY_URL="https://psc.example.test/.well-known/openid-configuration",
        TELESANTE_PSC_CLIENT_ID="telesante",
        TELESANTE_PSC_ORIGINS=origins,
    )
    assert _apps[0]["settings"]["server_url"].startswith("https://psc.example.test/")
    assert form_action == ["'self'", *origins.split()]
