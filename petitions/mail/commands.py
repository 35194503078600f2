import threading

import click
from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app

from petitions.extensions import db
from petitions.mail.bounces import unsubscribe_after_complaint
from petitions.mail.catcher import start_catcher
from petitions.mail.models import SuppressionReason
from petitions.mail.suppression import suppress, unsuppress

bp = Blueprint("mail_cli", __name__, cli_group="mail")


@bp.cli.command("catcher")
@click.option("--host", default="127.0.0.1", show_default=True)
def catcher(host: str) -> None:
    """Run the development mail catcher; read its mail at /dev/mail."""
    port = current_app.config["MAIL_CATCHER_PORT"]
    folder = current_app.config["MAIL_CATCHER_DIR"]
    controller = start_catcher(folder, host=host, port=port)
    click.echo(f"Mail catcher listening on smtp://{host}:{port}, storing in {folder}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def _checked_address(address: str) -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None


@bp.cli.command("suppress")
@click.argument("email")
@click.option(
    "--reason",
    type=click.Choice(["manual", "hard_bounce", "complaint"]),
    default="manual",
    show_default=True,
    help="complaint also unsubscribes the address from the newsletter.",
)
def suppress_command(email: str, reason: str) -> None:
    """Never mail EMAIL again (except to confirm a new subscription or signature)."""
    address = _checked_address(email)
    added = suppress(address, SuppressionReason(reason), "added with flask mail suppress")
    unsubscribed = reason == "complaint" and unsubscribe_after_complaint(address)
    db.session.commit()
    if added:
        click.echo(f"Suppressed {address} ({reason}).")
    else:
        click.echo(f"{address} was already suppressed; nothing changed.")
    if unsubscribed:
        click.echo(f"Unsubscribed {address} from the newsletter.")


@bp.cli.command("unsuppress")
@click.argument("email")
def unsuppress_command(email: str) -> None:
    """Allow mail to EMAIL again."""
    address = _checked_address(email)
    removed = unsuppress(address)
    db.session.commit()
    click.echo(f"{address} can be mailed again." if removed else f"{address} was not suppressed.")


@bp.cli.command("process-unsubscribe")
@click.argument("message", type=click.File("rb"), default="-")
def process_unsubscribe(message) -> None:
    """Act on one email sent to UNSUBSCRIBE_MAILTO (a file, or - for stdin)."""
    from petitions.mail.mailto import MAX_MESSAGE_BYTES
    from petitions.newsletter.mailto import unsubscribe_from_message
    from petitions.updates.mailto import stop_updates_from_message

    raw = message.read(MAX_MESSAGE_BYTES + 1)
    signature = stop_updates_from_message(raw)
    if signature is not None:
        click.echo(f"Stopped updates for signature {signature.id}.")
        return
    subscriber = unsubscribe_from_message(raw)
    if subscriber is None:
        raise click.ClickException("No valid unsubscribe token in that message; nothing changed.")
    click.echo(f"Unsubscribed subscriber {subscriber.id}.")
