"""POST /webhooks/bounce: hard bounces and complaints from the mail relay."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
