"""`flask articles ...`"""

from flask import Blueprint

bp = Blueprint("articles_cli", __name__, cli_group="articles")
