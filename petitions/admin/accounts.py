"""Accounts, their second factor, and the audit log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
