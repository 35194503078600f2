"""Subscribing, confirming, the preference centre and one-click unsubscribe."""

from flask import Blueprint

bp = Blueprint("newsletter", __name__)
