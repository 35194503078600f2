"""`flask digests ...`"""

from flask import Blueprint

bp = Blueprint("digests_cli", __name__, cli_group="digests")
