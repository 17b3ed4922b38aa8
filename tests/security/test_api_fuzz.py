"""The API fuzzed against its own OpenAPI schema (schemathesis): whatever a client sends, no server
error, and every answer is one the schema documents (status code, content type and body).

Requests go through the WSGI application in-process, inside the test's transaction, against a
small city of real data. Bounded and derandomised: the same examples every run, in CI as here.
"""

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from donations.api import PledgeThrottle

SCHEMA_URL = "/api/v1/schema/?format=json"
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
# Fixed seed, derandomised, no example database: the same requests on every run.
CONFIG = """
seed = 20201026
[generation]
mode = "all"
max-examples = 100
deterministic = true
database = "none"
[phases.stateful]
enabled = false
# A schema-valid id, code or page may still name nothing: 400 (parameters) or 404 (paths) is the
# right answer then, and the schema documents both.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", 400, 404]
"""


# Loaded when the module is collected: building the schema touches no database.
# (schemathesis.pytest.from_fixture would defer it, but breaks under pytest 9.2.)
schema = schemathesis.openapi.from_wsgi(
    SCHEMA_URL, get_wsgi_application(), config=schemathesis.Config.from_str(CONFIG)
)


@pytest.fixture
def permissive_limits(settings):
    """The pledge endpoints are rate limited per address and per e-mail; the fuzz sends far more.
    (tests/conftest.py empties the cache, and with it the counts, before each test.)"""
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "100000/h"
    settings.KSBB_PLEDGE_RATE_PER_EMAIL = "100000/h"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {PledgeThrottle.scope: "100000/hour"},
    }


@pytest.fixture
def in_test_transaction():
    """Django closes the connection at the end of every WSGI request that leaves it inside a
    transaction: here that would end the test's own. Django's test client avoids it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Every operation but the schema itself (drf-spectacular's own view).
@schema.exclude(path="/api/v1/schema/").parametrize()
# The city is built once per operation and the examples share it (and its transaction): a pledge
# the fuzz makes or cancels is simply part of the data the next example meets. No deadline per
# example: the suite asserts no wall-clock times; max-examples bounds the run.
@hypothesis.settings(
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ]
)
def test_the_api_answers_as_its_schema_says(case, city, permissive_limits, in_test_transaction):
    # The werkzeug client does not undo gzip (the needs and regions views compress large answers).
    case.call_and_validate(headers={"Accept-Encoding": "identity"})


def _known_good_cases(city):
    """Requests the fuzz seldom makes (it rarely guesses a real id or token): every success answer,
    and the refusals a real pledge meets, checked against the schema the same way."""
    submitted, delivered = city.pledges["submitted"], city.pledges["delivered"]
    need, full = city.needs["open"], city.needs["full"]
    pledge = {
        "need": need.pk,
        "public_name": "Yayasan Peduli",
        "kind": "humanitarian",
        "email": "halo@peduli.test",
        "quantity": 5,
        "message": "Untuk warga",
    }
    api = "/api/v1"
    return [
        ("GET", f"{api}/needs/", {"query": {"status": ["open", "delivered"], "page_size": 2}}),
        ("GET", f"{api}/needs/", {"query": {"kota": "31.71", "bbox": "106.7,-6.3,106.9,-6.1"}}),
        ("GET", f"{api}/needs/{{id}}/", {"path_parameters": {"id": city.needs["closed"].pk}}),
        ("GET", f"{api}/needs/layer/", {"query": {"category": "pangan"}}),
        ("GET", f"{api}/regions/", {"query": {"boundary": "1", "level": "kelurahan"}}),
        ("GET", f"{api}/regions/{{code}}/", {"path_parameters": {"code": "31.71"}}),
        ("GET", f"{api}/categories/{{slug}}/", {"path_parameters": {"slug": "pangan"}}),
        ("GET", f"{api}/aid-types/", {"query": {"category__slug": "pendidikan"}}),
        ("POST", f"{api}/pledges/", {"body": pledge, "media_type": JSON}),
        ("POST", f"{api}/pledges/", {"body": {**pledge, "quantity": 10_000}, "media_type": JSON}),
        ("POST", f"{api}/pledges/", {"body": {**pledge, "need": full.pk}, "media_type": FORM}),
        ("GET", f"{api}/pledges/{{token}}/", {"path_parameters": {"token": delivered.token}}),
        (
            "POST",
            f"{api}/pledges/{{token}}/cancel/",
            {"path_parameters": {"token": submitted.token}},
        ),
        (
            "POST",
            f"{api}/pledges/{{token}}/cancel/",
            {"path_parameters": {"token": submitted.token}},
        ),
        (
            "POST",
            f"{api}/pledges/{{token}}/cancel/",
            {"path_parameters": {"token": delivered.token}},
        ),
    ]


def test_real_requests_get_the_answers_the_schema_documents(
    city, permissive_limits, in_test_transaction
):
    statuses = []
    for method, path, parts in _known_good_cases(city):
        case = schema[path][method].Case(**parts)
        response = case.call_and_validate(headers={"Accept-Encoding": "identity"})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 200, 201, 400, 400, 200, 200, 400, 400]
