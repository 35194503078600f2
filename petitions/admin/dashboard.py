"""The admin home: per-petition charts, subscribers, the outbox and digests."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    return render_template("admin/dashboard.html")
