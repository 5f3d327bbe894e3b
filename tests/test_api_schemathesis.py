"""The API against its own OpenAPI document: requests generated from the schema (Schemathesis),
sent in-process to the Django application with the tokens of a nurse, an expert and a regional
observer. Any 5xx, undeclared status code, content type or body outside the schema fails.

Bounded in time: a few examples per operation, no shrinking, derandomized (same inputs on every
run, so a failure is reproducible)."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from telesante.accounts.models import ApiToken
from telesante.api import api
from tests.teleexpertise.conftest import TE, load_filieres, te_world, wound_request  # noqa: F401

# The JSON a client downloads (keys as strings), not the in-memory dict.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))
schema.app = get_wsgi_application()
# Device measurements use device tokens and stream bodies of 10,000 items: tested on their own.
schema = schema.exclude(path="/api/v1/telesurveillance/measurements")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_connection():
    """As Django's test client does: the request must not close the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def role_headers(te_world: TE, keep_connection) -> list[dict[str, str]]:  # noqa: F811
    """A nurse with a request under way, the wound-care expert it is addressed to, an observer."""
    from telesante.teleexpertise import services

    load_filieres()  # a transactional test run before, in this worker, flushed them
    services.create(None, te_world.w.nurse_a, wound_request(te_world))
    users = [te_world.w.nurse_a, te_world.wound_expert, te_world.w.observer]
    return [{"Authorization": f"Bearer {ApiToken.issue(u)[1]}", "Host": "localhost"} for u in users]


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(case, role_headers):
    for headers in role_headers:
        case.call_and_validate(headers=headers, checks=CHECKS)
