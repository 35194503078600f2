"""`flask api ...`: API keys. A key is shown once; only its SHA-256 and prefix are kept."""

from __future__ import annotations

import click
from flask import Blueprint
from sqlalchemy import select

from petitions.admin import audit
from petitions.api.keys import BadRateLimit, normalise_rate_limit
from petitions.api.keys import create_key as make_key
from petitions.api.models import ApiKey, KeyScope
from petitions.database import utcnow
from petitions.extensions import db

bp = Blueprint("api_cli", __name__, cli_group="api")


def _rate_limit(_ctx, _param, value: str | None) -> str:
    try:
        return normalise_rate_limit(value)
    except BadRateLimit as exc:
        raise click.BadParameter(str(exc)) from None


@bp.cli.command("create-key")
@click.argument("name")
@click.option("--scope", type=click.Choice([scope.value for scope in KeyScope]),
              default=KeyScope.ARTICLES.value, show_default=True,
              help="articles: POST /api/articles. partner: the partner signature API.")
@click.option("--rate-limit", callback=_rate_limit, default=None,
              help='Requests allowed for this key, like "60/minute;1000/day" (partner API).')
def create_key(name: str, scope: str, rate_limit: str) -> None:
    """Create an API key called NAME and print it, once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise click.BadParameter("must be 1 to 100 characters", param_hint="NAME")
    key, secret = make_key(name, scope, rate_limit)
    audit.record("api_key_created", key, name=key.name, scope=key.scope,
                 rate_limit=key.rate_limit, via="cli")
    db.session.commit()
    click.echo(f"Created {scope} API key {name!r} (prefix {key.prefix}, limit {key.rate_limit}). "
               "Copy it now; it cannot be shown again:")
    click.echo(secret)


@bp.cli.command("revoke-key")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the API key whose first characters are PREFIX (see list-keys)."""
    keys = db.session.scalars(select(ApiKey).where(ApiKey.prefix == prefix.strip())).all()
    if not keys:
        raise click.ClickException(f"No API key has the prefix {prefix!r}.")
    active = [key for key in keys if key.revoked_at is None]
    if not active:
        click.echo(f"The key {prefix} was already revoked.")
        return
    for key in active:
        key.revoked_at = utcnow()
        audit.record("api_key_revoked", key, name=key.name, scope=key.scope, via="cli")
    db.session.commit()
    click.echo(f"Revoked the key {prefix} ({', '.join(key.name for key in active)}).")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@bp.cli.command("list-keys")
def list_keys() -> None:
    """Every API key: name, prefix, scope, rate limit, created, last used and revoked (UTC)."""
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()
    if not keys:
        click.echo("No API keys. Create one with `flask api create-key NAME`.")
        return
    rows = [("NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED", "SCOPE", "LIMIT")] + [
        (key.name, key.prefix, _when(key.created_at), _when(key.last_used_at),
         _when(key.revoked_at), key.scope, key.rate_limit)
        for key in keys
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
