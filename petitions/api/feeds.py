"""Atom feeds of new petitions, site-wide and per category."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("feeds", __name__)
