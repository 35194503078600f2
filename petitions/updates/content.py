"""The words of an update email: its subject and its two bodies.

Shared by the send-time renderer (one rendering per update, with a placeholder where
each signer's stop link goes) and the admin's test send.
"""

from __future__ import annotations

from flask import current_app, render_template

from petitions.mail.render import inline_css
from petitions.text import render_markdown

MAX_SUBJECT = 300


def update_subject(title: str, petition_title: str) -> str:
    subject = render_template("email/petition_update/subject.txt", title=title,
                              petition_title=petition_title)
    return " ".join(subject.split())[:MAX_SUBJECT]


def petition_url(slug: str) -> str:
    return f"{current_app.config['BASE_URL']}/petitions/{slug}"


def render_bodies(*, title: str, body: str, kind: str, petition_title: str, slug: str,
                  stop_url: str, test: bool = False) -> tuple[str, str]:
    """(text, html). The text part is the Markdown itself, which reads well as text."""
    context = {
        "title": title,
        "body_text": body.strip(),
        "body_html": render_markdown(body),
        "kind": kind,
        "petition_title": petition_title,
        "petition_url": petition_url(slug),
        "stop_url": stop_url,
        "test": test,
        "base_url": current_app.config["BASE_URL"],
    }
    text = render_template("email/petition_update/body.txt", **context)
    html = inline_css(render_template("email/petition_update/body.html", subject=title, **context))
    return text, html
