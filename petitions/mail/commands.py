import threading

import click
from flask import Blueprint, current_app

from petitions.mail.catcher import start_catcher

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
