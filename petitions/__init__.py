"""The petitions service: create_app() builds the Flask app from small register_* steps."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from flask_babel import get_locale

from petitions import config
from petitions.database import tune_sqlite
from petitions.extensions import babel, csrf, db, limiter, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    configure_logging(app)
    trust_proxies(app)
    register_extensions(app)
    register_languages(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    register_template_helpers(app)
    register_celery(app)
    return app


def configure_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def trust_proxies(app: Flask) -> None:
    """Behind a load balancer, rate limits, block rules and the audit log must see the
    client's address, not the proxy's: trust exactly TRUSTED_PROXIES hops."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    from petitions.languages import select_locale

    babel.init_app(app, locale_selector=select_locale,
                   default_timezone=app.config.get("SITE_TIMEZONE", "UTC"))
    with app.app_context():
        tune_sqlite(db.engine)
    # Import models so that Alembic and create_all see every table.
    from petitions.abuse import models as _abuse  # noqa: F401
    from petitions.admin import models as _admin  # noqa: F401
    from petitions.api import models as _api  # noqa: F401
    from petitions.delivery import models as _delivery  # noqa: F401
    from petitions.mail import models as _mail  # noqa: F401
    from petitions.newsletter import digest_models as _digests  # noqa: F401
    from petitions.newsletter import models as _newsletter  # noqa: F401
    from petitions.newsletter import subscribers as _subscribers  # noqa: F401
    from petitions.signing import models as _signing  # noqa: F401
    from petitions.updates import models as _updates  # noqa: F401


def register_languages(app: Flask) -> None:
    """The language switch, Vary, locale-aware filters and compiled catalogues."""
    from petitions.languages import register_languages as register

    register(app)


def register_blueprints(app: Flask) -> None:
    from petitions.admin import register_admin
    from petitions.admin.commands import bp as admin_cli
    from petitions.admin.export_commands import bp as export_cli
    from petitions.api.articles import bp as api_articles
    from petitions.api.commands import bp as api_cli
    from petitions.api.embed import bp as embed
    from petitions.api.feeds import bp as feeds
    from petitions.api.openapi import bp as openapi
    from petitions.api.partner import bp as partner_api
    from petitions.api.public import bp as public_api
    from petitions.delivery.routes import bp as delivery
    from petitions.mail.commands import bp as mail_cli
    from petitions.mail.webhooks import bp as webhooks
    from petitions.newsletter.commands import bp as articles_cli
    from petitions.newsletter.digest_commands import bp as digests_cli
    from petitions.newsletter.routes import bp as newsletter
    from petitions.privacy.routes import bp as privacy
    from petitions.signing.routes import bp as signing
    from petitions.updates.routes import bp as updates

    # Machine-to-machine endpoints authenticate with tokens, not browser sessions.
    csrf.exempt(api_articles)
    csrf.exempt(webhooks)
    csrf.exempt(partner_api)
    for blueprint in (signing, newsletter, updates, delivery, privacy, public_api, feeds, embed,
                      openapi, partner_api, api_articles, webhooks):
        app.register_blueprint(blueprint)
    for command_group in (admin_cli, export_cli, mail_cli, articles_cli, digests_cli, api_cli):
        app.register_blueprint(command_group)
    register_admin(app)
    if app.config["MAIL_CATCHER"] and app.config["APP_ENV"] != "production":
        from petitions.mail.dev import bp as devmail

        app.register_blueprint(devmail)


def register_errorhandlers(app: Flask) -> None:
    from petitions.errors import register_errorhandlers as register

    register(app)


def register_security(app: Flask) -> None:
    from petitions.security import register_security as register

    register(app)


def register_commands(app: Flask) -> None:
    from petitions.demo import demo_command

    app.cli.add_command(demo_command)


def register_template_helpers(app: Flask) -> None:
    from petitions.text import render_markdown

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["dev_mail"] = "devmail" in app.blueprints


def register_celery(app: Flask) -> None:
    from petitions.celery import celery_init_app

    celery_init_app(app)
