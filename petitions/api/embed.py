"""Embeds for article pages and sharing.

- GET /petitions/<slug>/embed: the petition as a small card that any site may frame
  (title, live count, progress bar, a "Sign this petition" button opening the petition).
- GET /embed.js: the one-line script an article page includes; it turns
  `<a class="petition" href="…/petitions/<slug>">` links to this site into the card.
- Template helpers for the petition page's share links and Open Graph tags, and the
  admin's copy-paste snippet.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, send_from_directory
from flask_babel import gettext as _
from werkzeug.exceptions import Gone, NotFound

from petitions.security import content_security_policy
from petitions.signing.models import Petition
from petitions.signing.routes import _public_petition
from petitions.signing.translations import localized

bp = Blueprint("embed", __name__)

# The card is meant to be shown inside other sites' pages: any site may frame it.
EMBED_CSP = content_security_policy(frameable=True) + "; frame-ancestors *"
CARD_MAX_AGE = 60
SCRIPT_MAX_AGE = 300


def petition_url(petition: Petition) -> str:
    """The petition's public, absolute address (from BASE_URL, as in emails)."""
    return f"{current_app.config['BASE_URL']}/petitions/{quote(petition.slug, safe='')}"


def _q(text: str) -> str:
    return quote(text, safe="")


@bp.app_template_global()
def share_links(petition: Petition) -> dict[str, str]:
    """Plain share URLs (no third-party scripts), every parameter percent-encoded."""
    url = petition_url(petition)
    title = petition.title
    body = _("Please sign this petition: %(title)s", title=title) + "\r\n\r\n" + url
    return {
        "url": url,
        "email": f"mailto:?subject={_q(title)}&body={_q(body)}",
        "x": f"https://twitter.com/intent/tweet?url={_q(url)}&text={_q(title)}",
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={_q(url)}",
        "whatsapp": f"https://wa.me/?text={_q(title + ' ' + url)}",
        "bluesky": f"https://bsky.app/intent/compose?text={_q(title + ' ' + url)}",
    }


@bp.app_template_global()
def embed_snippet(petition: Petition) -> str:
    """The HTML an editor pastes into an article: a plain link that embed.js turns into
    the card (and that still works without JavaScript)."""
    base = current_app.config["BASE_URL"]
    # The article page is the news site's, not ours: the link text stays as the spec gives it.
    return (f'<a class="petition" href="{petition_url(petition)}">Sign Our Petition</a>\n'
            f'<script src="{base}/embed.js" async></script>')


def _framable(page: str, status: int):
    response = current_app.make_response((page, status))
    response.headers["Content-Security-Policy"] = EMBED_CSP
    return response


@bp.get("/petitions/<slug>/embed")
def petition(slug: str):
    """The card. Unknown, draft or hidden: 404; removed: 410 with the reason; both as a
    small card too, since they are shown inside someone else's page."""
    try:
        found = _public_petition(slug)
    except Gone as gone:
        page = render_template("embed/unavailable.html",
                               title=_("This petition has been removed"),
                               detail=None if gone.description == Gone.description
                               else gone.description)
        return _framable(page, 410)
    except NotFound:
        page = render_template("embed/unavailable.html", title=_("Petition not found"),
                               detail=None)
        return _framable(page, 404)
    page = render_template(
        "embed/petition.html",
        petition=localized(found),
        petition_url=petition_url(found),
        refresh_seconds=current_app.config["COUNT_REFRESH_SECONDS"],
    )
    response = _framable(page, 200)
    response.cache_control.public = True
    response.cache_control.max_age = CARD_MAX_AGE
    return response


@bp.get("/embed.js")
def script():
    """The article pages' script, loadable from any site (CORS), cached briefly so a fix
    reaches every article within minutes."""
    response = send_from_directory(current_app.static_folder, "embed.js",
                                   max_age=SCRIPT_MAX_AGE, mimetype="text/javascript")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    return response
