"""The Alembic migrations build exactly the schema the models describe; `flask demo` is safe
to run again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, func, select

from petitions.extensions import db
from petitions.newsletter.models import Article, Category
from petitions.signing.models import Petition


def schema_differences(metadata: MetaData) -> list:
    """What `flask db migrate` would put in a new migration, types and defaults included."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, metadata)


def test_migrated_schema_matches_the_models(app):
    assert schema_differences(db.metadata) == []


def test_schema_comparison_notices_a_model_the_migrations_do_not_match(app):
    # Guards the test above against passing vacuously (say, by reflecting the wrong schema).
    changed = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["outbox"].append_column(Column("priority", Integer, nullable=True))

    differences = schema_differences(changed)

    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "outbox", "priority")]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_flask_demo_twice_leaves_one_petition_one_category_and_11_articles(runner):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "11 new article(s)" in first.output
    assert "0 new article(s)" in second.output
    assert (count(Petition), count(Category), count(Article)) == (1, 1, 11)
