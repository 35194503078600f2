"""Schemathesis over every operation of /api/openapi.json, against the app itself (WSGI):
no 5xx, and every response matches the document (status, content type, headers, body).

Bounded to run in a minute or two: 25 derandomized examples per operation, no deadline.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from petitions.api.keys import create_key
from petitions.extensions import db
from tests.factories import ArticleFactory, PetitionFactory, SignatureFactory

ARTICLES_TOKEN = "articles-token-" + "a" * 24
BOUNCE_TOKEN = "bounce-token-" + "b" * 24
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance, response_headers_conformance]


@pytest.fixture
def api_schema(app):
    app.config.update(ARTICLES_API_TOKEN=ARTICLES_TOKEN, BOUNCE_WEBHOOK_TOKEN=BOUNCE_TOKEN)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture
def tokens(app):
    """Something to find: petitions in every state, an article, confirmed partner signatures."""
    petition = PetitionFactory(slug="sanctuary-city")
    PetitionFactory(slug="closed", state="closed")
    PetitionFactory(slug="removed", removal_reason="Duplicate", removed_at=petition.created_at)
    ArticleFactory(petition=petition)
    key, secret = create_key("Schemathesis", "partner")
    db.session.flush()
    SignatureFactory(petition=petition, api_key_id=key.id, state="confirmed",
                     confirmed_at=petition.created_at)
    db.session.commit()
    return {"partnerKey": secret, "articlesToken": ARTICLES_TOKEN, "bounceToken": BOUNCE_TOKEN}


def _auth(operation, tokens) -> dict:
    headers = {}
    for requirement in operation.definition.raw.get("security", []):
        for scheme in requirement:
            headers["Authorization"] = f"Bearer {tokens[scheme]}"
    return headers


def _run(strategy) -> None:
    @settings(max_examples=25, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        case.call_and_validate(checks=CHECKS)

    run()


def test_every_operation_answers_as_documented(api_schema, tokens):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 6
    failures = []
    for operation in operations:
        headers = _auth(operation, tokens)
        strategies = [operation.as_strategy(headers=headers)]
        if "{slug}" in operation.path:  # also a petition that exists, to reach the 2xx answers
            strategies.append(operation.as_strategy(headers=headers,
                                                    path_parameters={"slug": "sanctuary-city"}))
        for strategy in strategies:
            try:
                _run(strategy)
            except Exception as exc:  # noqa: BLE001  (report every operation, not the first)
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
