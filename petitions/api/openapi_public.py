"""OpenAPI 3.1 path items and component schemas for the public read API (issue 7):
petitions.json, categories.json, petitions.csv, petition and count JSON, Atom feeds.

The document is assembled elsewhere from PATHS and SCHEMAS; every "$ref" here points at
"#/components/schemas/<name>" in SCHEMAS. Keep them exactly in step with what the views
return (read_common, read_list, read_detail, public, feeds, signing.routes.count).
"""

from __future__ import annotations

from petitions.api.read_common import PUBLIC_STATES
from petitions.api.read_list import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, MAX_SLUG_LENGTH


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
COUNT = {"type": "integer", "minimum": 0}
TIME = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}
STATE = {"type": "string", "enum": list(PUBLIC_STATES)}
NO_NUL = "^[^\\x00]*$"  # a NUL is refused (400 invalid_category / invalid_q)
BAD_PARAMETER_CODES = [
    "invalid_state", "state_too_long", "invalid_category", "category_too_long",
    "invalid_q", "q_too_long", "invalid_page", "invalid_per_page",
]

_HEADERS = {
    "ETag": {"schema": STRING, "description": "Send it back in If-None-Match to get a 304."},
    "Cache-Control": {"schema": STRING,
                      "description": "public, max-age, stale-while-revalidate, stale-if-error"},
    "Access-Control-Allow-Origin": {"schema": {"type": "string", "const": "*"}},
}
_NOT_MODIFIED = {"304": {"description": "Not modified: the ETag in If-None-Match still matches; "
                                        "no body.", "headers": _HEADERS}}
_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                  "schema": STRING}


def _json(description: str, schema: str, headers: dict | None = None) -> dict:
    response = {"description": description,
                "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict:
    return _json(description, "Error")


def _bad_parameter() -> dict:
    return _json("A query parameter is not usable; `code` says which problem.", "BadParameter")


def _unknown_category() -> dict:
    return _json("No category has that slug (`code`: unknown_category).", "UnknownCategory")


def _text(description: str, media_type: str) -> dict:
    return {"description": description, "headers": _HEADERS,
            "content": {media_type: {"schema": STRING}}}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": STRING}
_FILTERS = [
    {"name": "state", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["", *PUBLIC_STATES]},
     "description": "As the public sees it: open past its closing time counts as closed. "
                    "Empty: any state."},
    {"name": "category", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": MAX_SLUG_LENGTH, "pattern": NO_NUL},
     "description": "A category slug (unknown: 404 unknown_category)."},
    {"name": "q", "in": "query", "required": False,
     "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH, "pattern": NO_NUL},
     "description": "Case-insensitive search of title and summary."},
]
_PAGING = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}},
]

PATHS: dict = {
    "/petitions.json": {"get": {
        "operationId": "listPetitions",
        "summary": "Public petitions, newest first, filtered and paged (at most 50 a page).",
        "tags": ["read"],
        "parameters": [*_FILTERS, *_PAGING, _IF_NONE_MATCH],
        "responses": {
            "200": _json("A page of petitions, with first/last/next/prev links (also in the "
                         "Link header).", "PetitionList",
                         {**_HEADERS, "Link": {"schema": STRING}}),
            **_NOT_MODIFIED,
            "400": _bad_parameter(),
            "404": _unknown_category(),
        },
    }},
    "/petitions.csv": {"get": {
        "operationId": "petitionsCsv",
        "summary": "Every public petition as CSV: slug,title,state,count,url.",
        "tags": ["read"],
        "parameters": [*_FILTERS, _IF_NONE_MATCH],
        "responses": {
            "200": _text("CSV with a header row; cells that a spreadsheet would run as a "
                         "formula start with a single quote.", "text/csv"),
            **_NOT_MODIFIED,
            "400": _bad_parameter(),
            "404": _unknown_category(),
        },
    }},
    "/categories.json": {"get": {
        "operationId": "listCategories",
        "summary": "Every category with its number of open petitions.",
        "tags": ["read"],
        "parameters": [_IF_NONE_MATCH],
        "responses": {"200": _json("The categories, by name.", "CategoryList", _HEADERS),
                      **_NOT_MODIFIED},
    }},
    "/petitions/{slug}.json": {"get": {
        "operationId": "getPetition",
        "summary": "One petition with its updates, deliveries, counts by country and postcode "
                   "area, related articles and the signers who chose to be shown.",
        "tags": ["read"],
        "parameters": [_SLUG, _IF_NONE_MATCH],
        "responses": {
            "200": _json("The petition.", "PetitionDetail", _HEADERS),
            **_NOT_MODIFIED,
            "400": _error("A malformed path."),
            "404": _error("No such petition, or it is a draft or hidden."),
            "410": _error("The petition was removed; `detail` gives the reason."),
        },
    }},
    "/petitions/{slug}/count.json": {"get": {
        "operationId": "getPetitionCount",
        "summary": "The live count, cheap to poll: cached for the count's refresh interval, "
                   "with a weak ETag from (count, state, goal).",
        "tags": ["read"],
        "parameters": [_SLUG, _IF_NONE_MATCH],
        "responses": {
            "200": _json("The count.", "PetitionCount", _HEADERS),
            **_NOT_MODIFIED,
            "400": _error("A malformed path."),
            "404": _error("No such petition, or it is a draft or hidden."),
            "410": _error("The petition was removed; `detail` gives the reason."),
        },
    }},
    "/petitions.atom": {"get": {
        "operationId": "petitionsFeed",
        "summary": "Atom 1.0 feed of the 50 newest public petitions.",
        "tags": ["feeds"],
        "parameters": [_IF_NONE_MATCH],
        "responses": {"200": _text("An Atom feed.", "application/atom+xml"),
                      **_NOT_MODIFIED},
    }},
    "/categories/{slug}/petitions.atom": {"get": {
        "operationId": "categoryPetitionsFeed",
        "summary": "Atom 1.0 feed of the 50 newest public petitions in one category.",
        "tags": ["feeds"],
        "parameters": [_SLUG, _IF_NONE_MATCH],
        "responses": {
            "200": _text("An Atom feed.", "application/atom+xml"),
            **_NOT_MODIFIED,
            "400": {"description": "A malformed path (an HTML page).",
                    "content": {"text/html": {"schema": STRING}}},
            "404": {"description": "No such category (an HTML page).",
                    "content": {"text/html": {"schema": STRING}}},
        },
    }},
}

_CATEGORY_REF = {"type": "object", "additionalProperties": False,
                 "required": ["name", "slug"], "properties": {"name": STRING, "slug": STRING}}
_PETITION_ITEM_PROPERTIES = {
    "slug": STRING, "title": STRING, "summary": STRING, "state": STATE,
    "signature_count": COUNT, "goal": {"type": "integer", "minimum": 1},
    "created_at": TIME, "closes_at": _nullable(TIME),
    "category": _nullable(_ref("CategoryRef")), "url": URL,
}


def _object(properties: dict) -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": list(properties), "properties": properties}


SCHEMAS: dict = {
    "Error": {
        "type": "object", "required": ["error", "detail", "status"],
        "properties": {"error": STRING, "detail": STRING,
                       "status": {"type": "integer", "minimum": 400, "maximum": 599}},
    },
    "BadParameter": {
        "type": "object", "additionalProperties": False,
        "required": ["error", "detail", "status", "code", "parameter"],
        "properties": {"error": STRING, "detail": STRING,
                       "status": {"type": "integer", "const": 400},
                       "code": {"type": "string", "enum": BAD_PARAMETER_CODES},
                       "parameter": {"type": "string",
                                     "enum": ["state", "category", "q", "page", "per_page"]}},
    },
    "UnknownCategory": {
        "type": "object", "additionalProperties": False,
        "required": ["error", "detail", "status", "code", "parameter"],
        "properties": {"error": STRING, "detail": STRING,
                       "status": {"type": "integer", "const": 404},
                       "code": {"type": "string", "const": "unknown_category"},
                       "parameter": {"type": "string", "const": "category"}},
    },
    "CategoryRef": _CATEGORY_REF,
    "PetitionItem": _object({**_PETITION_ITEM_PROPERTIES, "json_url": URL}),
    "PageLinks": _object({"self": URL, "first": URL, "last": URL,
                          "next": _nullable(URL), "prev": _nullable(URL)}),
    "PetitionList": _object({
        "petitions": {"type": "array", "maxItems": MAX_PER_PAGE,
                      "items": _ref("PetitionItem")},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "total": COUNT,
        "links": _ref("PageLinks"),
    }),
    "Category": _object({"name": STRING, "slug": STRING, "open_petitions": COUNT,
                         "url": URL, "feed_url": URL}),
    "CategoryList": _object({"categories": {"type": "array", "items": _ref("Category")}}),
    "PetitionUpdate": _object({"title": STRING, "body_html": STRING,
                               "published_at": _nullable(TIME), "kind": STRING}),
    "PetitionDelivery": _object({"target": STRING, "delivered_at": TIME,
                                 "signature_count": COUNT}),
    "CountryCount": _object({"country": {"type": "string", "minLength": 2, "maxLength": 2},
                             "name": STRING, "signature_count": COUNT}),
    "PostcodeAreaCount": _object({"area": {"type": "string", "maxLength": 3},
                                  "signature_count": COUNT}),
    "RelatedArticle": _object({"title": STRING, "url": STRING, "published_at": TIME}),
    "PublicSigner": _object({"first_name": STRING, "region": STRING}),
    "PetitionDetail": _object({
        **_PETITION_ITEM_PROPERTIES,
        "target": STRING,
        "updates": {"type": "array", "items": _ref("PetitionUpdate")},
        "deliveries": {"type": "array", "items": _ref("PetitionDelivery")},
        "counts_by_country": {"type": "array", "items": _ref("CountryCount")},
        "counts_by_postcode_area": {"type": "array", "items": _ref("PostcodeAreaCount")},
        "articles": {"type": "array", "items": _ref("RelatedArticle")},
        "recent_signers": {"type": "array", "maxItems": 10, "items": _ref("PublicSigner")},
    }),
    "PetitionCount": _object({"slug": STRING, "signature_count": COUNT,
                              "goal": {"type": "integer", "minimum": 1}, "state": STATE}),
}
