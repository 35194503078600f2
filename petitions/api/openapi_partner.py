"""OpenAPI 3.1 path items and schemas for the partner signature API (petitions/api/partner.py).

Assembled into /api/openapi.json by petitions/api/openapi.py. Keep in step with the views.
"""

from __future__ import annotations

from petitions.api.partner import HTTP_CODES, MAX_PAGE

STRING = {"type": "string"}
SECURITY = [{"partnerKey": []}]
ERROR_CODES = sorted(set(HTTP_CODES.values()) | {"error"})


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, **headers) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": _ref("PartnerError")}}}
    if headers:
        response["headers"] = {name: {"schema": schema} for name, schema in headers.items()}
    return response


_COMMON = {
    "401": _error("No key, a wrong key or a revoked key.", **{"WWW-Authenticate": STRING}),
    "403": _error("A valid key that is not a partner key (code forbidden)."),
    "429": _error("Over the key's own rate limit (or too many wrong keys from one address).",
                  **{"Retry-After": {"type": "string", "pattern": "^[0-9]+$"}}),
}

PATHS: dict = {
    "/api/v1/petitions/{slug}/signatures": {"post": {
        "operationId": "submitSignature",
        "summary": "Sign a petition for a supporter; they confirm by email (double opt-in).",
        "description": "The same fields and rules as the signing form. The answer is the same "
                       "whether or not the address had already signed; `id` is stable for "
                       "the same signature and key, and is what validations lists once the "
                       "supporter confirms.",
        "tags": ["partner"],
        "security": SECURITY,
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": STRING}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("SignatureSubmission")}}},
        "responses": {
            "202": {"description": "Accepted; a confirmation email is on its way.",
                    "content": {"application/json": {"schema": _ref("SignatureAccepted")}}},
            "400": _error("The body is not a JSON object (code invalid_request)."),
            **_COMMON,
            "404": _error("No such petition, or it is a draft or hidden (code not_found)."),
            "409": _error("The petition is closed (code conflict)."),
            "410": _error("The petition was removed; the message gives the reason (code gone)."),
            "413": _error("The body is too large."),
            "422": _error("Fields are missing or invalid: `fields` lists each one's messages "
                          "(code invalid_request)."),
        },
    }},
    "/api/v1/signatures/validations": {"get": {
        "operationId": "listValidations",
        "summary": "This key's signatures confirmed since a time: ids only, nothing personal.",
        "description": "Oldest first. Follow `next_cursor` (with the same `since`) until it "
                       "is null. Flagged and invalidated signatures are left out.",
        "tags": ["partner"],
        "security": SECURITY,
        "parameters": [
            {"name": "since", "in": "query", "required": True, "schema": STRING,
             "description": "ISO 8601 date or time; without an offset it is UTC.",
             "example": "2025-08-16T23:58:22Z"},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}},
            {"name": "cursor", "in": "query", "required": False, "schema": STRING,
             "description": "The `next_cursor` of the previous page."},
        ],
        "responses": {
            "200": {"description": "A page of validations.",
                    "content": {"application/json": {"schema": _ref("Validations")}}},
            "400": _error("A parameter is missing or invalid: `fields` names it."),
            **_COMMON,
        },
    }},
}

SCHEMAS: dict = {
    "PartnerError": {
        "type": "object", "additionalProperties": False, "required": ["error"],
        "properties": {"error": {
            "type": "object", "additionalProperties": False, "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": ERROR_CODES},
                "message": STRING,
                "fields": {"type": "object",
                           "additionalProperties": {"type": "array", "items": STRING}},
            },
        }},
    },
    "SignatureSubmission": {
        "type": "object", "required": ["name", "email", "postcode", "country"],
        "properties": {
            "name": {"type": "string", "maxLength": 100, "example": "Jane Doe"},
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "postcode": {"type": "string", "maxLength": 12, "example": "20004",
                         "description": "A 5-digit ZIP code in the US."},
            "country": {"type": "string", "pattern": "^[A-Z]{2}$", "example": "US",
                        "description": "ISO 3166-1 alpha-2."},
            "comment": {"type": ["string", "null"], "maxLength": 500},
            "show_name_publicly": {"type": "boolean", "default": False},
            "email_updates": {"type": "boolean", "default": False},
            "subscribe_newsletter": {"type": "boolean", "default": False},
            "locale": {"type": "string", "pattern": "^[a-z]{2,3}(_[A-Z]{2})?$", "example": "es",
                       "description": "The supporter's language, one of the site's LANGUAGES: "
                                      "their emails go out in it. Default: from "
                                      "Accept-Language, else DEFAULT_LANGUAGE."},
        },
    },
    "SignatureAccepted": {
        "type": "object", "additionalProperties": False, "required": ["status", "id"],
        "properties": {"status": {"type": "string", "const": "pending_confirmation"},
                       "id": {"type": "string", "pattern": "^sub_[0-9a-f]{24}$"}},
    },
    "Validations": {
        "type": "object", "additionalProperties": False,
        "required": ["validations", "next_cursor"],
        "properties": {
            "validations": {"type": "array", "maxItems": MAX_PAGE, "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "petition", "confirmed_at"],
                "properties": {"id": {"type": "string", "pattern": "^sub_[0-9a-f]{24}$"},
                               "petition": STRING,
                               "confirmed_at": {"type": "string", "format": "date-time"}},
            }},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
}
