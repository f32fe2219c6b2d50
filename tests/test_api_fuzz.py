"""The JSON API fuzzed from its own OpenAPI schema (schemathesis): no caller gets a server error.

Every operation of /api/v1/openapi.json is called with data generated from the schema, as an
anonymous caller, as a registered member (bearer token) and as the city federation's admin
(bearer token), in process through Django's WSGI handler (middleware, CSRF and all). No answer
may be a 5xx; an answer whose status the schema documents must match the schema's body and
content type.

Ids drawn at random almost never name a row, and a route that answers 404 at once tests
little: about half of the generated ids (path, query and body: campaign, org, union, region,
case, evaluation, question) are swapped for ids of rows that exist, so that the rules behind
them (scoping, the questionnaire, the case's steps) meet generated data too.

In the suite each operation gets PINGYI_FUZZ_EXAMPLES cases per caller (10 by default,
derandomized, so a run is reproducible); `make fuzz` runs many more.
"""

import json
import os
import random

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from api.urls import api
from cases.models import Case
from cases.services import reply_case, verify_case
from evaluations.models import Evaluation
from evaluations.selectors import questionnaire
from evaluations.services import Answers, submit_evaluation
from members.tokens import issue_token
from orgs.models import Org

EXAMPLES = int(os.environ.get("PINGYI_FUZZ_EXAMPLES", "10"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# Which known rows a generated integer of that name may be swapped for (see known_ids).
ID_KINDS = {
    "campaign_id": "campaign",
    "campaign": "campaign",
    "org_id": "org",
    "unit": "org",
    "union_id": "org",
    "region_id": "org",
    "case_id": "case",
    "after": "case",
    "evaluation_id": "evaluation",
    "question_id": "question",
    "item": "question",
}
KNOWN: dict[str, list[int]] = {}


class InProcessWSGI:
    """Django's WSGI handler, without closing the test's database connection after a request.

    A request's end closes "old" connections; inside a test's transaction that would drop the
    transaction (Django's test client unhooks the same signal for the same reason).
    """

    def __init__(self):
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return [body]


def _schema():
    raw = json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = InProcessWSGI()
    return loaded


schema = _schema()


def known_ids(value, rng: random.Random, name: str | None = None):
    """The generated value, with about half of its named integer ids swapped for real ones."""
    if isinstance(value, dict):
        return {key: known_ids(item, rng, key) for key, item in value.items()}
    if isinstance(value, list):
        return [known_ids(item, rng, name) for item in value]
    ids = KNOWN.get(ID_KINDS.get(name or ""), [])
    if ids and type(value) is int and rng.random() < 0.5:
        return rng.choice(ids)
    return value


@pytest.fixture
def fuzz_world(evaluators, other_campaign):
    """The common world, and 赵明's 不满意 of the 2022 campaign, verified and replied to.

    李华 and 赵明 are registered; the city's 2026 campaign is open and neither evaluated in it.
    """
    w = evaluators
    items = questionnaire(w.campaign).items
    done = submit_evaluation(
        member=w.zhao,
        campaign=w.campaign,
        answers=Answers(
            overall=2,
            ratings={items[0].pk: 1},
            suggestion="工会活动太少",
            return_visit=True,
        ),
        now=w.campaign.starts_at.replace(day=20),
    )
    case = Case.objects.get(evaluation=done.evaluation)
    verify_case(case=case, by=w.park_admin, finding="情况属实")
    reply_case(
        case=Case.objects.get(pk=case.pk),
        by=w.park_admin,
        outcome="fixed",
        measures="已增加文体活动",
        reply="感谢您的意见，已整改",
    )
    KNOWN.clear()
    KNOWN.update(
        campaign=[w.campaign.pk, w.open_campaign.pk, other_campaign.pk],
        org=list(Org.objects.values_list("pk", flat=True)),
        case=list(Case.objects.values_list("pk", flat=True)),
        evaluation=list(Evaluation.objects.values_list("pk", flat=True)),
        question=[q.pk for c in (w.campaign, w.open_campaign) for q in c.questions.all()],
    )
    yield w
    KNOWN.clear()


@pytest.fixture(params=["anonymous", "member", "admin"])
def caller(request, fuzz_world):
    """Headers of the caller: nobody, 赵明 (a registered member), the city federation's admin."""
    w = fuzz_world
    user = {"anonymous": None, "member": w.zhao.user, "admin": w.city_admin}[request.param]
    if user is None:
        return {}
    token, _record = issue_token(user=user)
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_no_server_error(case, caller):
    # Seeded by the generated case, so that a run (and a shrunk failure) is reproducible.
    rng = random.Random(f"{case.operation.label} {case.path_parameters} {case.query} {case.body}")
    for container in ("path_parameters", "query", "body"):
        value = getattr(case, container)
        if isinstance(value, dict | list):
            setattr(case, container, known_ids(value, rng))
    case.call_and_validate(headers=caller, checks=CHECKS)
