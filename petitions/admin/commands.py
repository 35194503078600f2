"""flask admin create-user / set-role / deactivate."""

from __future__ import annotations

import sys

import click
from flask import Blueprint
from sqlalchemy import func, select

from petitions.admin import audit
from petitions.admin.forms import MIN_PASSWORD_LENGTH
from petitions.admin.models import AdminUser, Role
from petitions.extensions import db

bp = Blueprint("admin_cli", __name__, cli_group="admin")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise click.ClickException("the password must be at most 1024 characters")
    return password


@bp.cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create an admin account; the password is asked for at a prompt."""
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.ClickException(f"not a valid email address: {error}") from None
    if db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email.lower())):
        raise click.ClickException(f"an account for {email} already exists")
    user = AdminUser(email=email, role=role)
    user.set_password(_read_password(password_stdin))
    db.session.add(user)
    db.session.flush()
    audit.record("account_created", user, role=role, via="cli")
    db.session.commit()
    click.echo(f"Created {role} {email}.")
