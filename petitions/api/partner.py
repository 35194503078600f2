"""The partner signature API (/api/v1): signatures from partner sites, with their own keys.

`Authorization: Bearer <key>` with a key of scope "partner" (admin → API keys). Each key
has its own rate limit, counted per key rather than per address. A signature sent here
goes through the same double opt-in and the same allow and block rules as the form,
records the key that brought it, and is answered the same way whether or not the address
had already signed. Errors are {"error": {"code", "message", "fields"?}}.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import Gone, HTTPException

from petitions.abuse import alerts, rules
from petitions.abuse.limiter import setting
from petitions.api.keys import active_key, bearer_token, over_failure_limit, over_key_limit
from petitions.api.models import ApiKey, KeyScope
from petitions.extensions import db
from petitions.languages import current_language, known, languages
from petitions.signing.canonical import canonical_email
from petitions.signing.forms import SignatureForm
from petitions.signing.models import Petition, Signature, SignatureState
from petitions.signing.routes import _public_petition
from petitions.signing.service import SignatureDetails, sign_petition

bp = Blueprint("partner_api", __name__)
TEXT_FIELDS = ("name", "email", "postcode", "country")
FLAGS = ("show_name_publicly", "email_updates", "subscribe_newsletter")
ISO_8601 = re.compile(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?"
                      r"(Z|[+-]\d\d:?\d\d)?)?\Z", re.ASCII)
MAX_PAGE = 1000
DEFAULT_PAGE = 100
HTTP_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 410: "gone",
              413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


def api_error(status: int, code: str, message: str, fields: dict | None = None, **headers):
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    response.headers.update(headers)
    response.cache_control.no_store = True
    return response


def _too_many(seconds: int):
    return api_error(429, "rate_limited", _("Too many requests. Try again in %(num)d seconds.",
                                            num=seconds), **{"Retry-After": str(seconds)})


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    if status == 429:
        return _too_many(60)
    message = {404: _("There is no such petition."),
               410: _("This petition has been removed.")}.get(status, error.name)
    if status == 410 and error.description and error.description != Gone.description:
        message = _("This petition has been removed: %(reason)s", reason=error.description)
    return api_error(status, HTTP_CODES.get(status, "error"), message)


@bp.before_request
def require_partner_key():
    key = active_key(bearer_token())
    if key is None:
        wait = over_failure_limit(str(setting("RATELIMIT_API")))
        if wait:
            return _too_many(wait)
        return api_error(401, "unauthorized",
                         _("Send a valid partner API key as 'Authorization: Bearer <key>'."),
                         **{"WWW-Authenticate": "Bearer"})
    if key.scope != KeyScope.PARTNER:
        return api_error(403, "forbidden", _("This API key is not a partner key."))
    wait = over_key_limit(key)
    if wait:
        return _too_many(wait)
    g.partner_key = key
    return None


def submission_id(key: ApiKey, signature_id: int) -> str:
    """Opaque and stable: the same signature gives the same id to the same key, and
    nothing about the signature (not its order, not whether it existed) shows in it.
    Keyed by the key's own hash, so rotating SECRET_KEY does not change it."""
    mac = hmac.new(key.key_hash.encode(), f"signature:{signature_id}".encode(), hashlib.sha256)
    return "sub_" + mac.hexdigest()[:24]


def _read_signature(payload: dict) -> SignatureDetails | dict:
    """The details, or {field: [messages]} (types first, then the signing form's rules)."""
    problems: dict[str, list[str]] = {}
    data = MultiDict()
    for name in TEXT_FIELDS + ("comment",):
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems[name] = [_("This must be text.")]
        else:
            data[name] = value
    for name in FLAGS:
        value = payload.get(name, False)
        if not isinstance(value, bool):
            problems[name] = [_("This must be true or false.")]
        elif value:
            data[name] = "y"
    form = SignatureForm(formdata=data, meta={"csrf": False})
    form.validate()
    for name, messages in form.errors.items():
        if name in TEXT_FIELDS + ("comment",) + FLAGS and name not in problems:
            problems[name] = [str(message) for message in messages]
    if problems:
        return problems
    return SignatureDetails(
        name=form.name.data, email=form.email.data, postcode=form.postcode.data,
        country=form.country.data, comment=form.comment.data,
        **{name: bool(getattr(form, name).data) for name in FLAGS})


def _read_locale(payload: dict) -> tuple[str, dict[str, list[str]]]:
    """The supporter's language: `locale` when the partner sends it (one of LANGUAGES),
    else the request's (Accept-Language, then DEFAULT_LANGUAGE). Their emails use it."""
    value = payload.get("locale")
    if value is None:
        return current_language(), {}
    if not isinstance(value, str) or known(value) is None:
        return "", {"locale": [_("Use one of: %(codes)s.", codes=", ".join(languages()))]}
    return value, {}


def _flag_reason(email: str, ip: str | None) -> str | None:
    """The form's allow and block rules. There are no bot traps to check (no form), and
    the key's own limit, not the per-address signing limit, paces a partner."""
    verdict = rules.check(email, ip)
    return "blocked" if verdict.blocked and not verdict.allowed else None


@bp.post("/api/v1/petitions/<slug>/signatures")
def sign(slug: str):
    """202 {"status": "pending_confirmation", "id"} for new and already-known addresses alike."""
    petition: Petition = _public_petition(slug)
    if not petition.is_open:
        return api_error(409, "conflict", _("This petition is closed to new signatures."))
    try:
        payload = json.loads(request.get_data() or b"null")
    except (ValueError, RecursionError):
        return api_error(400, "invalid_request", _("The request body must be JSON."))
    if not isinstance(payload, dict):
        return api_error(400, "invalid_request", _("Send one signature as a JSON object."))
    details = _read_signature(payload)
    locale, locale_problems = _read_locale(payload)
    if isinstance(details, dict) or locale_problems:
        problems = {**(details if isinstance(details, dict) else {}), **locale_problems}
        return api_error(422, "invalid_request", _("Some fields are missing or invalid."),
                         fields=problems)
    key: ApiKey = g.partner_key
    ip = request.remote_addr
    sign_petition(petition, details, ip=ip, flag_reason=_flag_reason(details.email, ip),
                  api_key_id=key.id, locale=locale)
    canonical = canonical_email(details.email)
    # Flood alerts by email domain; not by address, which is the partner's server.
    alerts.check_after_signing(petition, canonical, None)
    signature_id = db.session.scalar(select(Signature.id).where(
        Signature.petition_id == petition.id, Signature.canonical_email == canonical))
    response = jsonify(status="pending_confirmation", id=submission_id(key, signature_id))
    response.status_code = 202
    response.cache_control.no_store = True
    return response


def _cursor(confirmed_at: datetime, signature_id: int) -> str:
    raw = f"{confirmed_at.isoformat()}|{signature_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(text: str) -> tuple[datetime, int]:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    moment, _sep, signature_id = raw.partition("|")
    return _moment(moment), int(signature_id)


def _moment(text: str) -> datetime:
    if not ISO_8601.match(text):
        raise ValueError(text)
    return _aware(datetime.fromisoformat(text))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _query_problems() -> tuple[dict, datetime | None, int, tuple | None]:
    problems, since, limit, after = {}, None, DEFAULT_PAGE, None
    try:
        since = _moment(request.args.get("since", ""))
    except (ValueError, OverflowError):
        problems["since"] = [_("Give a time in ISO 8601, like 2025-08-16T23:58:22Z.")]
    try:
        limit = int(request.args.get("limit", DEFAULT_PAGE))
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError
    except ValueError:
        problems["limit"] = [_("Give a whole number from 1 to %(max)d.", max=MAX_PAGE)]
    if "cursor" in request.args:
        try:
            after = _read_cursor(request.args["cursor"])
        except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
            problems["cursor"] = [_("Use the next_cursor of a previous page.")]
    return problems, since, limit, after


@bp.get("/api/v1/signatures/validations")
def validations():
    """This key's signatures confirmed since a time: ids, petitions and times only.
    Flagged signatures (never counted) and invalidated ones are left out."""
    problems, since, limit, after = _query_problems()
    if problems:
        return api_error(400, "invalid_request", _("Some parameters are missing or invalid."),
                         fields=problems)
    key: ApiKey = g.partner_key
    query = (
        select(Signature.id, Signature.confirmed_at, Petition.slug)
        .join(Petition, Petition.id == Signature.petition_id)
        .where(Signature.api_key_id == key.id, Signature.state == SignatureState.CONFIRMED,
               Signature.flagged.is_(False), Signature.confirmed_at >= since)
        .order_by(Signature.confirmed_at, Signature.id)
        .limit(limit + 1)
    )
    if after is not None:
        moment, last_id = after
        query = query.where(or_(Signature.confirmed_at > moment,
                                and_(Signature.confirmed_at == moment, Signature.id > last_id)))
    rows = db.session.execute(query).all()
    page = rows[:limit]
    next_cursor = _cursor(page[-1].confirmed_at, page[-1].id) if len(rows) > limit else None
    response = jsonify(
        validations=[{"id": submission_id(key, row.id), "petition": row.slug,
                      "confirmed_at": _aware(row.confirmed_at).isoformat()} for row in page],
        next_cursor=next_cursor,
    )
    response.cache_control.no_store = True
    return response
