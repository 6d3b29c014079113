"""Schemathesis against our own OpenAPI document, for each role: no server error and
no response that breaks the schema, whatever the input. Runs over HTTP against the
live test server (its own SQLite database)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.core.parameters import ParameterLocation

import helpdesk.api.views  # noqa: F401  (declares every endpoint)
from helpdesk.api.registry import openapi_document
from helpdesk.api.tokens import create_token
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from tests.factories import World, make_ticket

schema = schemathesis.openapi.from_dict(openapi_document())
FUZZ = settings(max_examples=12, deadline=None, derandomize=True,  # the same cases on every CI run
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def tokens(live_server):
    with live_server.app.app_context():
        w = World()
        make_ticket(w.user_a, subject="Αίτημα για fuzzing")
        result = {role: create_token(user, "fuzz", now=utcnow())[1]
                  for role, user in (("school", w.user_a), ("l1", w.l1), ("admin", w.admin))}
        _db.session.commit()
        _db.session.remove()
    return result


def _check(case, live_server, secret):
    # positive_data_acceptance is left out: a schema-valid body may name a school or
    # category that does not exist, and that is rightly a 422. Every other check runs:
    # no server error, status codes, content types, headers and bodies as documented,
    # and schema-violating input rejected.
    # A case whose headers are the negative part (e.g. Authorization left out on purpose)
    # is sent as generated: adding our token would turn it back into a valid request,
    # which schemathesis would then report as "schema-violating request accepted".
    meta = getattr(case, "meta", None)
    negative_headers = meta is not None and meta.is_negative_at(ParameterLocation.HEADER)
    case.call_and_validate(base_url=f"{live_server}/api/v1",
                           headers=None if negative_headers else
                           {"Authorization": f"Bearer {secret}"},
                           excluded_checks=[checks.positive_data_acceptance])


@schema.parametrize()
@FUZZ
def test_api_conforms_for_a_school(case, live_server, tokens):
    _check(case, live_server, tokens["school"])


@schema.parametrize()
@FUZZ
def test_api_conforms_for_a_technician(case, live_server, tokens):
    _check(case, live_server, tokens["l1"])


@schema.parametrize()
@FUZZ
def test_api_conforms_for_an_administrator(case, live_server, tokens):
    _check(case, live_server, tokens["admin"])
