"""`flask api ...`: API keys. A key is shown once; only its SHA-256 and prefix are kept."""

from __future__ import annotations

import secrets

import click
from flask import Blueprint
from sqlalchemy import select

from petitions.api.articles import key_hash
from petitions.api.models import ApiKey
from petitions.database import utcnow
from petitions.extensions import db

bp = Blueprint("api_cli", __name__, cli_group="api")

PREFIX_LENGTH = 8


def _new_key() -> str:
    """A random key whose prefix no other key has, so a prefix always names one key.

    A key never starts with "-", which `flask api revoke-key PREFIX` would take for an option.
    """
    while True:
        key = secrets.token_urlsafe(32)
        if key.startswith("-"):
            continue
        taken = db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == key[:PREFIX_LENGTH]))
        if taken is None:
            return key


@bp.cli.command("create-key")
@click.argument("name")
def create_key(name: str) -> None:
    """Create an API key called NAME and print it, once."""
    name = name.strip()
    if not name or len(name) > 100:
        raise click.BadParameter("must be 1 to 100 characters", param_hint="NAME")
    key = _new_key()
    db.session.add(ApiKey(name=name, prefix=key[:PREFIX_LENGTH], key_hash=key_hash(key)))
    db.session.commit()
    click.echo(f"Created API key {name!r} (prefix {key[:PREFIX_LENGTH]}). "
               "Copy it now; it cannot be shown again:")
    click.echo(key)


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
    db.session.commit()
    click.echo(f"Revoked the key {prefix} ({', '.join(key.name for key in active)}).")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@bp.cli.command("list-keys")
def list_keys() -> None:
    """Every API key: name, prefix, created, last used and revoked (UTC)."""
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()
    if not keys:
        click.echo("No API keys. Create one with `flask api create-key NAME`.")
        return
    rows = [("NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED")] + [
        (key.name, key.prefix, _when(key.created_at), _when(key.last_used_at), _when(key.revoked_at))
        for key in keys
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
