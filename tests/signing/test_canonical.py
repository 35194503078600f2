"""canonical_email: one person, one signature, whatever spelling of their address they type."""

import pytest

from petitions.signing.canonical import canonical_email


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Jane@Example.ORG", "jane@example.org"),
        ("  jane@example.org  ", "jane@example.org"),
        ("JANE.DOE@EXAMPLE.ORG", "jane.doe@example.org"),
    ],
)
def test_canonical_email_lower_cases_and_trims(typed, canonical):
    assert canonical_email(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("jane+petitions@example.org", "jane@example.org"),
        ("jane+a+b@example.org", "jane@example.org"),
        ("jane+@example.org", "jane@example.org"),
    ],
)
def test_canonical_email_drops_the_plus_tag(typed, canonical):
    assert canonical_email(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "janedoe@gmail.com",
        "jane.doe@gmail.com",
        "j.a.n.e.d.o.e@gmail.com",
        "Jane.Doe+x@GoogleMail.com",
        "janedoe@googlemail.com",
        "JANE.DOE+petition@GMAIL.COM",
    ],
)
def test_canonical_email_merges_gmail_dot_and_googlemail_variants(typed):
    assert canonical_email(typed) == "janedoe@gmail.com"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("jane.doe@example.org", "jane.doe@example.org"),
        ("jane.doe@gmail.example.org", "jane.doe@gmail.example.org"),
        ("jane.doe@notgmail.com", "jane.doe@notgmail.com"),
    ],
)
def test_canonical_email_keeps_dots_outside_gmail(typed, canonical):
    assert canonical_email(typed) == canonical


def test_canonical_email_keeps_different_people_apart():
    assert canonical_email("jane.doe@example.org") != canonical_email("janedoe@example.org")
    assert canonical_email("jane@example.org") != canonical_email("jane@example.com")
