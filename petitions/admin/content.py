"""Categories and articles: list, edit, link to petitions.

A category's slug never changes (feeds and the API find categories by it); only its
name can be edited. Moderators and admins alike may use every view here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from petitions.admin import audit
from petitions.admin.content_forms import ArticleForm, CategoryForm
from petitions.errors import render_error
from petitions.extensions import db
from petitions.newsletter.models import Article, Category
from petitions.signing.models import Petition

bp = Blueprint("content", __name__, url_prefix="/content")

ARTICLES_PER_PAGE = 50
MAX_PAGE = 1_000_000


def _not_found(what: str):
    abort(make_response(render_error(404, _("Not found"), what)))


def _bad_request(title: str, detail: str):
    abort(make_response(render_error(400, title, detail)))


def _page_number() -> int:
    raw = request.args.get("page", "1").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        _bad_request(_("Unknown page"), _("Pages are numbered from 1."))
    return int(raw)


def _category_filter() -> Category | None:
    raw = request.args.get("category", "").strip()
    if not raw:
        return None
    valid_id = raw.isascii() and raw.isdigit() and len(raw) < 10
    category = db.session.get(Category, int(raw)) if valid_id else None
    if category is None:
        _bad_request(_("Unknown category"), _("There is no category with that number."))
    return category


@bp.get("/")
def index():
    page = _page_number()
    shown = _category_filter()
    categories = db.session.execute(
        select(Category, func.count(Article.id))
        .outerjoin(Article, Article.category_id == Category.id)
        .group_by(Category.id)
        .order_by(Category.name)
    ).all()
    query = select(Article).options(selectinload(Article.category), selectinload(Article.petition))
    if shown is not None:
        query = query.where(Article.category_id == shown.id)
    articles = db.paginate(query.order_by(Article.published_at.desc(), Article.id.desc()),
                           page=page, per_page=ARTICLES_PER_PAGE, error_out=False)
    if page > 1 and page > (articles.pages or 1):
        _not_found(_("There is no page %(page)d: the last page is %(last)d.",
                     page=page, last=articles.pages or 1))
    return render_template("admin/content/index.html", categories=categories,
                           articles=articles, shown=shown)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
def edit_category(category_id: int):
    category = db.session.get(Category, category_id)
    if category is None:
        _not_found(_("There is no category with that number."))
    form = CategoryForm(category=category)
    if not form.is_submitted():
        return render_template("admin/content/category_form.html", form=form, category=category)
    if not form.validate():
        return render_template("admin/content/category_form.html", form=form,
                               category=category), 422
    if form.name.data != category.name:
        audit.record("category_edited", category, slug=category.slug,
                     **{"from": category.name, "to": form.name.data})
        category.name = form.name.data
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.name.errors = [_("Another category already has this name.")]
            return render_template("admin/content/category_form.html", form=form,
                                   category=category), 409
        flash(_("The category was renamed."))
    else:
        flash(_("Nothing was changed."))
    return redirect(url_for(".index"), code=303)


def _article(article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None:
        _not_found(_("There is no article with that number."))
    return article


def _render_article(form: ArticleForm, article: Article, status: int = 200):
    return render_template("admin/content/article_form.html", form=form, article=article), status


def _slug(petition_id: int | None) -> str | None:
    if petition_id is None:
        return None
    return db.session.scalar(select(Petition.slug).where(Petition.id == petition_id))


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
def edit_article(article_id: int):
    article = _article(article_id)
    form = ArticleForm(article=article)
    if not form.is_submitted():
        return _render_article(form, article)
    if not form.validate():
        return _render_article(form, article, status=422)
    values = form.values()
    changed = [name for name, value in values.items() if getattr(article, name) != value]
    if not changed:
        flash(_("Nothing was changed."))
        return redirect(url_for(".index"), code=303)
    detail = {"fields": changed}
    if "petition_id" in changed:
        detail["petition_from"] = _slug(article.petition_id)
        detail["petition_to"] = _slug(values["petition_id"])
    for name in changed:
        setattr(article, name, values[name])
    audit.record("article_edited", article, **detail)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.url.errors = [_("Another article already has this address.")]
        return _render_article(form, article, status=409)
    flash(_("Your changes to the article were saved."))
    return redirect(url_for(".edit_article", article_id=article.id), code=303)


@bp.post("/articles/<int:article_id>/unlink")
def unlink_article(article_id: int):
    """Unlink from the petition's admin page; back there afterwards."""
    article = _article(article_id)
    petition_id = article.petition_id
    if petition_id is None:
        flash(_("That article is not linked to a petition."))
        return redirect(url_for(".edit_article", article_id=article.id), code=303)
    audit.record("article_unlinked", article, petition=_slug(petition_id))
    article.petition_id = None
    db.session.commit()
    flash(_("The article “%(title)s” is no longer linked to this petition.", title=article.title))
    return redirect(url_for("admin.petitions.show", petition_id=petition_id), code=303)
