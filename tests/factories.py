"""factory_boy factories, one per model, bound to Flask-SQLAlchemy's session."""

from __future__ import annotations

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from petitions.admin.models import AdminUser
from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.models import Article, Category
from petitions.newsletter.subscribers import Subscriber
from petitions.signing.canonical import canonical_email
from petitions.signing.models import Petition, Signature


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class CategoryFactory(_Base):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class PetitionFactory(_Base):
    class Meta:
        model = Petition

    slug = factory.Sequence(lambda n: f"petition-{n}")
    title = factory.Sequence(lambda n: f"Petition number {n}")
    summary = "Keep local police out of federal immigration enforcement."
    body = "We ask the **Council** to act.\n\n<script>alert(1)</script>"
    target = "Mayor and Council of the District of Columbia"
    goal = 1000
    state = "open"
    closes_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))
    category = factory.SubFactory(CategoryFactory)


class SignatureFactory(_Base):
    class Meta:
        model = Signature

    petition = factory.SubFactory(PetitionFactory)
    name = factory.Sequence(lambda n: f"Signer {n}")
    email = factory.Sequence(lambda n: f"signer{n}@example.org")
    canonical_email = factory.LazyAttribute(lambda o: canonical_email(o.email))
    postcode = "20004"
    country = "US"
    state = "pending"
    confirmation_sends = 1
    ip_address = "127.0.0.1"


class ArticleFactory(_Base):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Headline {n}")
    url = factory.Sequence(lambda n: f"https://news.example/articles/{n}")
    published_at = factory.LazyFunction(utcnow)
    category = factory.SubFactory(CategoryFactory)


class SubscriberFactory(_Base):
    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    canonical_email = factory.LazyAttribute(lambda o: canonical_email(o.email))
    state = "active"
    frequency = "daily"
    confirmed_at = factory.LazyAttribute(
        lambda o: None if o.state == "pending" else utcnow() - timedelta(days=30)
    )
    confirmation_sends = 1

    @factory.post_generation
    def follows(self, create, categories, **kwargs):
        """SubscriberFactory(follows=[category, ...])"""
        if categories:
            self.categories.extend(categories)
            if create:
                db.session.commit()


# Hashing is deliberately slow; every test account shares one precomputed hash.
ADMIN_PASSWORD = "correct horse battery staple"
_ADMIN_PASSWORD_HASH = None


def _admin_password_hash() -> str:
    global _ADMIN_PASSWORD_HASH
    if _ADMIN_PASSWORD_HASH is None:
        from werkzeug.security import generate_password_hash

        _ADMIN_PASSWORD_HASH = generate_password_hash(ADMIN_PASSWORD, method="scrypt")
    return _ADMIN_PASSWORD_HASH


class AdminUserFactory(_Base):
    class Meta:
        model = AdminUser

    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    role = "admin"
    password_hash = factory.LazyFunction(_admin_password_hash)
    active = True
    session_version = 1
