"""Which language a page or email is in, the switch between languages, and the catalogues.

A request's language is, in order: an explicit choice (the switch at /language/<code>, or a
`lang` query argument, as the hreflang alternates carry), then the `lang` cookie that
choice left, then the browser's Accept-Language, then DEFAULT_LANGUAGE. URLs are the same
for every language, so any response that looked the language up says so in
`Vary: Cookie, Accept-Language`: a shared cache must never hand a Spanish page to someone
who reads English. Responses that never touched it (count.json, the JSON read API) stay
language-free and keep their shared caching.

Emails are not requests: they are rendered with flask_babel.force_locale() in the
language stored with the signature or subscriber.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import format_decimal as babel_format_decimal
from flask_babel import get_locale, refresh
from flask_babel import gettext as _

from petitions.config import ConfigError

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY_ARG = "lang"

log = logging.getLogger(__name__)
bp = Blueprint("languages", __name__)


def languages() -> list[str]:
    return list(current_app.config.get("LANGUAGES") or ["en"])


def default_language() -> str:
    return current_app.config.get("DEFAULT_LANGUAGE") or "en"


def current_language() -> str:
    """The language of this request (or of the email being rendered), as a code."""
    return str(get_locale() or default_language())


def known(code: str | None) -> str | None:
    """`code` if it is one of LANGUAGES, else None: anything else from a user is ignored."""
    return code if code and code in languages() else None


def select_locale() -> str:
    """Flask-Babel's locale selector (the order is in the module docstring)."""
    if not has_request_context():
        return default_language()
    g.language_negotiated = True
    chosen = known(request.args.get(QUERY_ARG))
    if chosen:
        g.language_chosen = chosen
        return chosen
    remembered = known(request.cookies.get(COOKIE))
    if remembered:
        return remembered
    return request.accept_languages.best_match(languages()) or default_language()


def remember(response, code: str):
    response.set_cookie(
        COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
        secure=current_app.config["BASE_URL"].startswith("https://"),
    )
    return response


def _fresh_choice() -> None:
    """Each request chooses afresh. Its own app context normally sees to that; one shared
    with the caller (tests, a request inside a CLI command) would keep the last choice."""
    g.pop("language_negotiated", None)
    g.pop("language_chosen", None)
    if getattr(g, "_flask_babel", None) is not None and not hasattr(
            g._flask_babel, "forced_babel_locale"):
        refresh()


def _after_request(response):
    if g.get("language_negotiated"):
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
    chosen = g.get("language_chosen")
    if chosen and request.cookies.get(COOKIE) != chosen:
        remember(response, chosen)
    return response


# --- the switch ---------------------------------------------------------------------------

def _without_lang(query: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                      if k != QUERY_ARG])


def local_path(target: str | None) -> str:
    """`target` if it is a path on this site, else "/": the switch must never become an
    open redirect. A `lang` argument in it is dropped, or it would undo the switch."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(character) < 32 or character == "\\" for character in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return urlunsplit(("", "", parts.path, _without_lang(parts.query), ""))


@bp.route("/language/<code>", methods=["GET", "POST"])
def switch(code: str):
    if not known(code):
        from petitions.errors import render_error

        return render_error(404, _("Language not available"),
                            _("This site is available in: %(names)s.",
                              names=", ".join(own_name(c) for c in languages())))
    response = redirect(local_path(request.values.get("next")), code=303)
    response.cache_control.no_store = True
    return remember(response, code)


# --- what templates use ---------------------------------------------------------------------

def own_name(code: str) -> str:
    """The language's name in itself: "English", "Español"."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def label(code: str) -> str:
    """The language's name in the current language, for use mid-sentence: "Spanish" in
    English, "español" in Spanish."""
    return Locale.parse(code).get_display_name(current_language()) or code


def hreflang(code: str) -> str:
    return code.replace("_", "-")


def _here() -> str:
    return urlunsplit(("", "", request.path, _without_lang(request.query_string.decode()), ""))


def language_links() -> list[dict]:
    """One entry per language for the switch: code, own name, hreflang, whether it is the
    current one, and the switch's URL (which comes back to this page)."""
    current = current_language()
    here = _here()
    return [
        {"code": code, "name": own_name(code), "hreflang": hreflang(code),
         "current": code == current, "url": url_for("languages.switch", code=code, next=here)}
        for code in languages()
    ]


def alternate_links() -> list[dict]:
    """The hreflang alternates of this page: the same URL with ?lang=<code> for each
    language, and the plain URL (negotiated) as x-default. Absolute, from BASE_URL."""
    base = current_app.config["BASE_URL"]
    query = _without_lang(request.query_string.decode())
    links = []
    for code in languages():
        own = urlencode([*parse_qsl(query, keep_blank_values=True), (QUERY_ARG, code)])
        links.append({"hreflang": hreflang(code), "url": f"{base}{request.path}?{own}"})
    plain = f"{base}{request.path}" + (f"?{query}" if query else "")
    links.append({"hreflang": "x-default", "url": plain})
    return links


def numberformat(value) -> str:
    """Whole numbers (signature counts) always grouped: "1,234" in English and "1.234"
    in Spanish. CLDR gives Spanish a minimum of two grouping digits, which would print
    "1234" next to "12.345"; the explicit pattern keeps every count alike."""
    if value is None:
        return ""
    if isinstance(value, int):
        return format_decimal(value, format="#,##0", locale=get_locale() or default_language())
    return babel_format_decimal(value)


# --- catalogues -----------------------------------------------------------------------------

def compile_catalogues(directory: Path) -> list[Path]:
    """Compile each <lang>/LC_MESSAGES/messages.po whose .mo is missing or older. Written
    to a temporary file and renamed, so processes starting together never read half a
    file. A catalogue that does not parse is logged and left alone: the app still starts,
    in English for that language. Returns the .mo files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        try:
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            handle, temporary = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
            with os.fdopen(handle, "wb") as target:
                write_mo(target, catalog)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users
            os.replace(temporary, mo)
            written.append(mo)
        except Exception as exc:  # a read-only install, or a catalogue mid-edit
            log.warning("could not compile %s: %s", po, exc)
    return written


def register_languages(app: Flask) -> None:
    from petitions.extensions import csrf
    from petitions.signing.translations import petition_text

    # Choosing a language is harmless and carries no data: a plain form may POST it.
    csrf.exempt(switch)
    app.register_blueprint(bp)
    # First, before CSRF and the rest: their error pages are in the reader's language too.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_choice)
    app.after_request(_after_request)
    app.jinja_env.filters["numberformat"] = numberformat
    app.jinja_env.globals.update(language_links=language_links,
                                 alternate_links=alternate_links,
                                 petition_text=petition_text,
                                 language_name=own_name, language_label=label)
    for directory in app.extensions["babel"].translation_directories:
        compile_catalogues(Path(directory))


def language_settings(env: Mapping[str, str]) -> dict:
    """LANGUAGES: the languages pages and emails come in (comma-separated codes, each one
    Babel knows); DEFAULT_LANGUAGE: one of them, used when nothing else decides."""
    raw = env.get("LANGUAGES", "").strip() or "en,es"
    codes = [code.strip() for code in raw.split(",") if code.strip()]
    for code in codes:
        # Codes go into cookies, URLs and folder names: plain "es" or "pt_BR" only.
        try:
            if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", code):
                raise ValueError(code)
            Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            raise ConfigError("LANGUAGES", f"{code!r} is not a language code like es or pt_BR") from None
    default = env.get("DEFAULT_LANGUAGE", "").strip() or "en"
    if default not in codes:
        raise ConfigError("DEFAULT_LANGUAGE", f"must be one of LANGUAGES ({', '.join(codes)})")
    return {"LANGUAGES": list(dict.fromkeys(codes)), "DEFAULT_LANGUAGE": default,
            "BABEL_DEFAULT_LOCALE": default}
