"""flask export counts / flask export signatures: exports on standard output."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("export_cli", __name__, cli_group="export")
