"""Forms for editing categories and articles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from petitions.admin.petition_forms import (
    SiteDateTimeField,
    category_choices,
    multi_line,
    no_control_characters_in_text,
    text_field,
)
from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.article_fields import (
    CATEGORY_MAX,
    EARLIEST,
    FUTURE_SLACK,
    SUMMARY_MAX,
    TITLE_MAX,
    clean_url,
)
from petitions.newsletter.models import Article, Category
from petitions.signing.models import Petition


class CategoryForm(FlaskForm):
    name = text_field(_l("Name"), CATEGORY_MAX, _l("Give the category a name."))

    def __init__(self, *args, category: Category, **kwargs):
        super().__init__(*args, obj=category, **kwargs)
        self.category = category

    def validate_name(self, field) -> None:
        taken = db.session.scalar(
            select(Category.id).where(Category.name == field.data, Category.id != self.category.id)
        )
        if taken is not None:
            raise ValidationError(_l("Another category already has this name."))


def petition_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Petition.id, Petition.title, Petition.slug).order_by(func.lower(Petition.title))
    )
    return [(str(petition_id), f"{title} ({slug})") for petition_id, title, slug in rows]


class ArticleForm(FlaskForm):
    title = text_field(_l("Title"), TITLE_MAX, _l("Give the article a title."))
    url = StringField(
        _l("Address (URL)"),
        validators=[DataRequired(_l("Give the article's address, starting with https://."))],
        filters=[lambda v: v.strip() if v else v],
    )
    summary = TextAreaField(
        _l("Summary (plain text)"),
        validators=[
            Optional(),
            Length(max=SUMMARY_MAX, message=_l("Use %(max)d characters or fewer.",
                                               max=SUMMARY_MAX)),
            no_control_characters_in_text,
        ],
        filters=[multi_line],
    )
    category = SelectField(_l("Category"), validate_choice=False)
    published_at = SiteDateTimeField(_l("Published at"))
    petition = SelectField(_l("Linked petition"), validate_choice=False)

    def __init__(self, *args, article: Article, **kwargs):
        super().__init__(*args, obj=article, **kwargs)
        self.article = article
        self.category.choices = category_choices()
        self.petition.choices = [("", _l("No petition")), *petition_choices()]
        if not self.is_submitted():
            self.category.data = str(article.category_id)
            self.petition.data = str(article.petition_id or "")

    def validate_url(self, field) -> None:
        try:
            field.data = clean_url(field.data)
        except ValueError as problem:
            raise ValidationError(str(problem)) from None
        taken = db.session.scalar(
            select(Article.id).where(Article.url == field.data, Article.id != self.article.id)
        )
        if taken is not None:
            raise ValidationError(_l("Another article already has this address."))

    def validate_category(self, field) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a category from the list."))

    def validate_petition(self, field) -> None:
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a petition from the list."))

    def validate_published_at(self, field) -> None:
        if field.data is None:
            if not field.errors:
                raise ValidationError(_l("Give the publication time."))
            return
        if not EARLIEST <= field.data <= utcnow() + FUTURE_SLACK:
            raise ValidationError(_l("The publication time must be after 1900 and not in "
                                     "the future."))

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "url": self.url.data,
            "summary": self.summary.data or "",
            "category_id": int(self.category.data),
            "published_at": self.published_at.data,
            "petition_id": int(self.petition.data) if self.petition.data else None,
        }
