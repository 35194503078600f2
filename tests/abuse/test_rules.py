"""Allow and block rules: patterns validated and normalised; blocks flag silently;
allows exempt from blocks and rate limits."""

from __future__ import annotations

import pytest

from petitions.abuse.models import AccessRule
from petitions.abuse.rules import BadPattern, normalise_pattern
from petitions.extensions import db
from tests.abuse.helpers import confirm_all_and_fold, sign, stored
from tests.factories import PetitionFactory


@pytest.mark.parametrize(("kind", "pattern", "stored_as"), [
    ("email_domain", " *.Spam.EXAMPLE ", "*.spam.example"),
    ("email_domain", "@mailinator.com", "mailinator.com"),
    ("ip", "203.0.113.0/24", "203.0.113.0/24"),
    ("ip", "203.0.113.7", "203.0.113.7/32"),
    ("ip", "2001:DB8::/32", "2001:db8::/32"),
    ("email", "Jane.Doe+petition@GoogleMail.com", "janedoe@gmail.com"),
])
def test_patterns_are_normalised(kind, pattern, stored_as):
    assert normalise_pattern(kind, pattern) == stored_as


@pytest.mark.parametrize(("kind", "pattern"), [
    ("ip", "203.0.113.0/33"), ("ip", "999.1.1.1"), ("ip", "10.0.0.1/8"), ("ip", "0.0.0.0/0"),
    ("ip", "not an ip"), ("email_domain", "*"), ("email_domain", "exa mple.com"),
    ("email_domain", "a@b.com"), ("email", "no-at-sign"), ("email", "two@@x.com"),
    ("email", ""), ("nonsense", "x"),
])
def test_bad_patterns_are_refused(kind, pattern):
    with pytest.raises(BadPattern):
        normalise_pattern(kind, pattern)


def test_host_bits_set_suggests_the_network():
    with pytest.raises(BadPattern, match="10.0.0.0/8"):
        normalise_pattern("ip", "10.0.0.1/8")


def _rule(kind: str, pattern: str, action: str = "block") -> None:
    db.session.add(AccessRule(kind=kind, pattern=normalise_pattern(kind, pattern), action=action))
    db.session.commit()


@pytest.mark.parametrize(("kind", "pattern", "email", "ip"), [
    ("email_domain", "*.spam.example", "bot@mx1.spam.example", "198.51.100.1"),
    ("email_domain", "mailinator.co?", "bot@MAILINATOR.COM", "198.51.100.1"),
    ("ip", "203.0.113.0/24", "real@example.org", "203.0.113.77"),
    ("ip", "2001:db8::/32", "real@example.org", "2001:db8::1"),
    ("email", "jane.doe@gmail.com", "Jane.Doe+x@googlemail.com", "198.51.100.1"),
])
def test_a_block_flags_silently_and_is_never_counted(app, client, kind, pattern, email, ip):
    petition = PetitionFactory(slug="blocked-here")
    _rule(kind, pattern)
    response = sign(client, petition.slug, email=email, ip=ip)
    assert (response.status_code, response.headers["Location"]) == (
        303, "/petitions/blocked-here/check-email")
    [signature] = stored(petition)
    assert (signature.flagged, signature.flag_reason) == (True, "blocked")
    assert confirm_all_and_fold(petition) == 0


def test_a_signature_matching_no_block_counts(app, client):
    petition = PetitionFactory()
    _rule("email_domain", "*.spam.example")
    _rule("ip", "203.0.113.0/24")
    sign(client, petition.slug, email="jane@spam.example.example.org", ip="203.0.114.1")
    assert [s.flagged for s in stored(petition)] == [False]
    assert confirm_all_and_fold(petition) == 1


def test_an_allow_beats_a_block(app, client):
    petition = PetitionFactory()
    _rule("email_domain", "newsroom.example")
    _rule("ip", "203.0.113.0/24", action="allow")
    sign(client, petition.slug, email="editor@newsroom.example", ip="203.0.113.5")
    assert [s.flagged for s in stored(petition)] == [False]


def test_an_allowed_network_is_exempt_from_rate_limits(limits_on, client):
    limits_on.config.update(RATELIMIT_SIGN="1/minute", RATELIMIT_SIGN_IP="1/minute")
    petition = PetitionFactory()
    _rule("ip", "203.0.113.0/24", action="allow")
    for n in range(4):
        sign(client, petition.slug, email=f"staff{n}@example.org", ip="203.0.113.5")
    sign(client, petition.slug, email="a@example.org", ip="198.51.100.1")
    sign(client, petition.slug, email="b@example.org", ip="198.51.100.1")
    assert [s.flag_reason for s in stored(petition)] == [None] * 5 + ["rate_limit"]
    assert confirm_all_and_fold(petition) == 5


def test_an_allow_does_not_excuse_a_bot_trap(limits_on, client):
    petition = PetitionFactory()
    _rule("ip", "203.0.113.0/24", action="allow")
    sign(client, petition.slug, ip="203.0.113.5", website="spam")
    assert [s.flag_reason for s in stored(petition)] == ["bot_trap"]


def test_a_rule_written_by_another_process_applies_once_the_cache_is_read_again(app, client):
    """Each process keeps the rules for a few seconds; a rule another process saved (played
    here by a connection of the database's own driver, which this process cannot see)
    applies from the next read."""
    petition = PetitionFactory()
    sign(client, petition.slug, email="first@spam.example")  # the rules are now cached
    db.session.commit()  # SQLite: end the test's transaction, which holds the write lock
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.execute("INSERT INTO access_rules (kind, pattern, action, created_at) VALUES"
                    " ('email_domain', 'spam.example', 'block', CURRENT_TIMESTAMP)")
        raw.commit()
    sign(client, petition.slug, email="second@spam.example")  # within the cache's seconds
    app.config["ACCESS_RULES_CACHE_SECONDS"] = 0  # as if they had passed
    sign(client, petition.slug, email="third@spam.example")
    assert [s.flagged for s in stored(petition)] == [False, False, True]


def test_a_rule_deleted_here_stops_applying_at_once(app, client):
    petition = PetitionFactory()
    _rule("email_domain", "spam.example")
    sign(client, petition.slug, email="first@spam.example")
    db.session.execute(AccessRule.__table__.delete())
    db.session.commit()
    sign(client, petition.slug, email="second@spam.example")
    assert [s.flagged for s in stored(petition)] == [True, False]
