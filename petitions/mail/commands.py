import os
import threading
from pathlib import Path

import click
from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app

from petitions.extensions import db
from petitions.mail.bounces import apply_report, find_outbox_row, unsubscribe_after_complaint
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


@bp.cli.command("dkim-keygen")
@click.option("--selector", help="Default: DKIM_SELECTOR, else 'petitions'.")
@click.option("--domain", help="Default: DKIM_DOMAIN, else MAIL_FROM's domain.")
@click.option("--bits", type=click.IntRange(1024, 4096), default=2048, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the private key. Default: instance/dkim/SELECTOR.DOMAIN.pem")
def dkim_keygen(selector: str | None, domain: str | None, bits: int, out: Path | None) -> None:
    """Make a DKIM key pair: write the private key (mode 0600), print the DNS record."""
    from petitions.mail.dkim import DOMAIN, SELECTOR, dns_record, generate_private_key, txt_strings

    config = current_app.config
    current = config.get("DKIM")
    selector = selector or (current.selector if current else "petitions")
    sender_domain = config["MAIL_FROM"].rsplit("@", 1)[-1].rstrip(">").strip()
    domain = (domain or (current.domain if current else sender_domain)).lower().rstrip(".")
    if not SELECTOR.fullmatch(selector):
        raise click.BadParameter("letters, digits and hyphens, like mail2026", param_hint="--selector")
    if not DOMAIN.fullmatch(domain):
        raise click.BadParameter(f"{domain!r} is not a domain name", param_hint="--domain")
    out = out or Path(current_app.instance_path) / "dkim" / f"{selector}.{domain}.pem"
    if out.exists():
        raise click.ClickException(f"{out} already exists; nothing was written. "
                                   "Choose another --out (or selector) to make a new key.")
    try:
        pem = generate_private_key(bits)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 in one step: the key is never readable by others, even briefly.
        with os.fdopen(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
            file.write(pem)
    except (RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    name, value = dns_record(selector, domain, pem)
    quoted = " ".join(f'"{chunk}"' for chunk in txt_strings(value))
    click.echo(f"Wrote a {bits}-bit private key to {out} (mode 0600).")
    click.echo("\nPublish this DNS TXT record:\n")
    click.echo(f"{name}. IN TXT ( {quoted} )")
    click.echo("\nThen set:\n")
    click.echo(f"DKIM_SELECTOR={selector}\nDKIM_DOMAIN={domain}\nDKIM_PRIVATE_KEY={out.resolve()}")
    if not (domain == sender_domain or sender_domain.endswith("." + domain)):
        click.echo(f"\nNote: MAIL_FROM's domain is {sender_domain}; DMARC needs the DKIM domain "
                   "to be that domain or a parent of it.")


@bp.cli.command("process-bounce")
@click.argument("message", type=click.File("rb"), default="-")
@click.option("--recipient", envvar="ORIGINAL_RECIPIENT", metavar="ADDRESS",
              help="The envelope recipient the report was delivered to (the VERP address); "
                   "default: $ORIGINAL_RECIPIENT, as Postfix sets it.")
def process_bounce(message, recipient: str | None) -> None:
    """Act on one bounce (RFC 3464 DSN) or complaint (RFC 5965 ARF) read from MESSAGE
    (a file, or - for stdin). Exits 0 when it matched one of our messages, 1 otherwise."""
    from petitions.mail.dsn import MAX_MESSAGE_BYTES, ReportError, read_reports
    from petitions.mail.verp import token_reader

    try:
        reports = read_reports(message.read(MAX_MESSAGE_BYTES + 1), recipient)
    except ReportError as exc:
        raise click.ClickException(f"{exc}; nothing changed.") from None
    reader = token_reader(current_app.config)
    done = []
    for report in reports:
        row = find_outbox_row(reader.outbox_id(*report.return_paths), report.message_id,
                              report.recipient)
        if row is None:
            db.session.rollback()
            who = report.recipient or "an unnamed recipient"
            raise click.ClickException(
                f"{report.type} for {who} matches none of our messages (no valid VERP token, "
                "and no Message-ID of ours sent to that address); nothing changed.")
        counts = apply_report(row.to_address, report.type, report.detail, row.id, report.status)
        outcome = ", ".join(key.replace("_", " ") for key, value in counts.items() if value)
        if report.type in ("soft_bounce", "delivered") and outcome == "ignored":
            outcome = "counted" if report.type == "soft_bounce" else "soft-bounce streak ended"
        status = f", {report.status}" if report.status else ""
        done.append(f"{report.type} for {row.to_address} (outbox {row.id}{status}): {outcome}")
    db.session.commit()
    click.echo("; ".join(done) + ".")
