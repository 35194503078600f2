"""The partner signature API (/api/v1): signatures from partner sites, with their own keys."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("partner_api", __name__)
