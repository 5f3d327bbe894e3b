import pytest

from tests.psc import oidc


@pytest.fixture(scope="session")
def psc_provider(tmp_path_factory):
    """The local Pro Santé Connect, sending browsers back to Django's test client's host."""
    provider = oidc.start(tmp_path_factory.mktemp("psc"), "http://testserver")
    yield provider
    oidc.stop(provider)


@pytest.fixture
def psc(settings, psc_provider):
    """The platform configured for it (TELESANTE_PSC_* as settings.py reads them)."""
    settings.SOCIALACCOUNT_PROVIDERS = psc_provider.apps()
    psc_provider.set_clock(0)
    return psc_provider
