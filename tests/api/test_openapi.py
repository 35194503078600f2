"""GET /api/openapi.json: a valid OpenAPI 3.1 document covering every JSON endpoint."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from petitions.api.openapi import build_document

# Personal-data downloads reached by an emailed link, not API endpoints.
NOT_API = {"/privacy/data/{token}.json", "/subscription/{token}/export.json"}
API_BLUEPRINTS = {"api", "partner_api", "public_api", "webhooks", "feeds"}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_document_is_served_and_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "http://petitions.test"}]
    validate(document)


def test_the_validator_notices_a_broken_document():
    # Guards the test above against passing vacuously.
    document = build_document("http://petitions.test")
    document["paths"]["/api/v1/signatures/validations"]["get"]["responses"] = "none"

    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_every_json_endpoint_is_documented_with_its_methods(app):
    paths = build_document("http://petitions.test")["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        path = openapi_path(rule.rule)
        is_api = (rule.endpoint.split(".")[0] in API_BLUEPRINTS or rule.rule.endswith(".json")
                  or rule.rule.startswith("/api/"))
        if not is_api or path in NOT_API or rule.endpoint == "openapi.document":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_every_reference_resolves_and_every_operation_has_an_id():
    document = build_document("http://petitions.test")
    schemas = document["components"]["schemas"]
    refs = set(re.findall(r"#/components/schemas/([A-Za-z]+)", str(document)))

    assert refs <= set(schemas)
    operations = [op for item in document["paths"].values() for op in item.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))


def test_partner_operations_declare_the_bearer_key_and_their_errors():
    paths = build_document("http://petitions.test")["paths"]
    for path, method in (("/api/v1/petitions/{slug}/signatures", "post"),
                         ("/api/v1/signatures/validations", "get")):
        operation = paths[path][method]
        assert operation["security"] == [{"partnerKey": []}]
        assert {"401", "403", "429"} <= set(operation["responses"])
