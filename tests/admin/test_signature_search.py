"""Signature search at /admin/signatures/: every filter, bad values, pages, and who may search."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from petitions.admin import signature_search
from petitions.database import utcnow
from tests.factories import PetitionFactory, SignatureFactory

ROW_NAME = re.compile(r'<a href="/admin/signatures/\d+">([^<]+)</a>')


def names(response) -> list[str]:
    """The signers' names in the results table, in page order."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return ROW_NAME.findall(response.get_data(as_text=True))


def search(client, **params):
    return client.get("/admin/signatures/", query_string=params)


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="clean-air", title="Clean air now")


def signer(name: str, petition, **fields):
    return SignatureFactory(petition=petition, name=name, **fields)


def test_the_table_shows_each_signature_newest_first_with_its_details(app, moderator_client,
                                                                     petition):
    app.config["SITE_TIMEZONE"] = "America/New_York"
    signer("Ada Older", petition, created_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    signer("Bea Newer", petition, email="bea@example.org", postcode="SW1A 1AA", country="GB",
           state="confirmed", ip_address="203.0.113.9",
           created_at=datetime(2024, 5, 2, 12, 0, tzinfo=UTC),
           confirmed_at=datetime(2024, 5, 2, 13, 30, tzinfo=UTC))

    response = search(moderator_client)

    assert names(response) == ["Bea Newer", "Ada Older"]
    page = response.get_data(as_text=True)
    row = page[page.index("Bea Newer"):page.index("Ada Older")]
    for shown in ("bea@example.org", "clean-air", "SW1A 1AA", "GB", "confirmed",
                  "2024-05-02 08:00", "2024-05-02 09:30", "203.0.113.9"):
        assert shown in row
    assert "2 signatures match." in page


def test_petition_filter(moderator_client, petition):
    signer("On clean air", petition)
    signer("Elsewhere", PetitionFactory(slug="other"))

    assert names(search(moderator_client, petition="clean-air")) == ["On clean air"]


def test_email_filter_is_exact_case_insensitive_and_matches_the_canonical_address(
        moderator_client, petition):
    signer("Gmail Jane", petition, email="Jane.Doe+petitions@GoogleMail.com")
    signer("Plain Jane", petition, email="jane@example.org")
    signer("Not Jane", petition, email="jane@example.org.uk")

    assert names(search(moderator_client, email="JANE@example.org")) == ["Plain Jane"]
    assert names(search(moderator_client, email="janedoe@gmail.com")) == ["Gmail Jane"]
    assert names(search(moderator_client, email="jane.doe+petitions@googlemail.com")) \
        == ["Gmail Jane"]


def test_name_filter_matches_part_of_a_name_in_any_case_and_treats_wildcards_literally(
        moderator_client, petition):
    signer("Mary Robinson", petition)
    signer("ROBIN Hood", petition)
    signer("Mark Smith", petition)
    signer("100% Sure", petition)

    assert names(search(moderator_client, name="robin")) == ["ROBIN Hood", "Mary Robinson"]
    assert names(search(moderator_client, name="%")) == ["100% Sure"]
    assert names(search(moderator_client, name="M_r")) == []


def test_domain_filter_matches_the_part_after_the_at_exactly(moderator_client, petition):
    signer("At example", petition, email="a@Example.org")
    signer("At sub", petition, email="b@mail.example.org")
    signer("At other", petition, email="c@example.org.evil")
    signer("Googlemail", petition, email="d@googlemail.com")

    assert names(search(moderator_client, domain="example.org")) == ["At example"]
    assert names(search(moderator_client, domain="@EXAMPLE.ORG")) == ["At example"]
    assert names(search(moderator_client, domain="gmail.com")) == ["Googlemail"]


def test_postcode_filter_is_a_prefix_ignoring_case_and_spaces(moderator_client, petition):
    signer("Westminster", petition, postcode="SW1A 1AA")
    signer("Westminster too", petition, postcode="sw1a2aa")
    signer("Kensington", petition, postcode="SW7 2AZ")
    signer("Not prefix", petition, postcode="ASW1A")

    assert names(search(moderator_client, postcode="sw 1a")) == ["Westminster too", "Westminster"]


def test_state_filter(moderator_client, petition):
    signer("Waiting", petition)
    signer("Done", petition, state="confirmed", confirmed_at=utcnow())
    signer("Gone", petition, state="invalidated", invalidated_at=utcnow(),
           invalidation_reason="test")

    assert names(search(moderator_client, state="confirmed")) == ["Done"]
    assert names(search(moderator_client, state="invalidated")) == ["Gone"]
    assert names(search(moderator_client, state="pending")) == ["Waiting"]


def test_dates_are_whole_days_in_the_site_time_zone_inclusive(app, moderator_client, petition):
    app.config["SITE_TIMEZONE"] = "America/New_York"  # UTC-4 in May
    at = {
        "Before": datetime(2024, 5, 2, 3, 59, tzinfo=UTC),  # 1 May, 23:59 in New York
        "First minute": datetime(2024, 5, 2, 4, 0, tzinfo=UTC),  # 2 May, 00:00
        "Last minute": datetime(2024, 5, 4, 3, 59, tzinfo=UTC),  # 3 May, 23:59
        "After": datetime(2024, 5, 4, 4, 0, tzinfo=UTC),  # 4 May, 00:00
    }
    for name, created in at.items():
        signer(name, petition, created_at=created)

    both = search(moderator_client, date_from="2024-05-02", date_to="2024-05-03")
    assert names(both) == ["Last minute", "First minute"]
    assert names(search(moderator_client, date_from="2024-05-04")) == ["After"]
    assert names(search(moderator_client, date_to="2024-05-01")) == ["Before"]
    assert names(search(moderator_client, date_from="2024-05-02", date_to="2024-05-02")) \
        == ["First minute"]


@pytest.mark.parametrize("query, expected", [
    ("203.0.113.7", ["Exact"]),
    ("203.0.113.0/24", ["Mapped", "Top of /24", "Exact"]),
    ("203.0.113.0/26", ["Mapped", "Exact"]),
    ("203.0.112.0/20", ["Mapped", "Top of /24", "Exact", "In /20"]),
    ("203.0.0.0/16", ["Mapped", "Top of /24", "Exact", "In /20", "In /16"]),
    ("203.0.113.77/24", ["Mapped", "Top of /24", "Exact"]),  # host bits are ignored
    ("2001:db8:1::5", ["IPv6 one"]),
    ("2001:db8:1::/48", ["IPv6 zero run", "IPv6 two", "IPv6 one"]),
    ("2001:db8::/32", ["IPv6 other /48", "IPv6 zero run", "IPv6 two", "IPv6 one"]),
    ("2001:0db8:0001:0000::/64", ["IPv6 zero run", "IPv6 one"]),
    ("::ffff:203.0.113.7", ["Exact"]),
])
def test_ip_filter_takes_an_address_or_a_network_v4_or_v6(moderator_client, petition, query,
                                                         expected):
    for name, ip in [
        ("In /16", "203.0.1.1"),
        ("In /20", "203.0.127.255"),
        ("Exact", "203.0.113.7"),
        ("Top of /24", "203.0.113.200"),
        ("Mapped", "::ffff:203.0.113.8"),
        ("Next /16", "203.1.113.7"),
        ("Lookalike", "103.0.113.7"),
        ("IPv6 one", "2001:db8:1::5"),
        ("IPv6 two", "2001:db8:1:2::5"),
        ("IPv6 zero run", "2001:db8:1::"),
        ("IPv6 other /48", "2001:db8:2::5"),
        ("IPv6 elsewhere", "2001:db9:1::5"),
        ("No address", None),
    ]:
        signer(name, petition, ip_address=ip)

    assert names(search(moderator_client, ip=query)) == expected


def test_an_ipv6_network_with_too_many_candidate_addresses_is_refused_not_truncated(
        moderator_client, petition, monkeypatch):
    monkeypatch.setattr(signature_search, "MAX_NETWORK_ADDRESSES", 2)
    for n in range(3):
        signer(f"Six {n}", petition, ip_address=f"2001:db8::{n + 1}")

    refused = search(moderator_client, ip="2001:db8::/64")
    assert refused.status_code == 422
    assert "That network covers too many addresses to search." in refused.get_data(as_text=True)
    # Other filters narrow the candidates first.
    assert names(search(moderator_client, ip="2001:db8::/64", name="Six 1")) == ["Six 1"]


@pytest.mark.parametrize("params, message", [
    ({"ip": "203.0.113.0/33"}, "Enter an IP address like 203.0.113.7"),
    ({"ip": "203.0.113"}, "Enter an IP address like 203.0.113.7"),
    ({"ip": "not-an-ip"}, "Enter an IP address like 203.0.113.7"),
    ({"ip": "10.0.0.0/4"}, "That network is too broad: use a prefix of /8 or longer."),
    ({"ip": "2001::/12"}, "That network is too broad: use a prefix of /16 or longer."),
    ({"date_from": "2024-13-01"}, "Enter a date like 2024-05-31."),
    ({"date_to": "yesterday"}, "Enter a date like 2024-05-31."),
    ({"date_to": "9999-12-31"}, "Enter a date like 2024-05-31."),
    ({"date_from": "2024-05-03", "date_to": "2024-05-02"}, "The end date is before the start date."),
    ({"petition": "no-such-petition"}, "There is no petition at that address."),
    ({"state": "deleted"}, "Choose pending, confirmed or invalidated."),
    ({"email": "jane"}, "Enter a whole email address"),
    ({"domain": "jane@example.org"}, "Enter only the part after the @"),
    ({"name": "x" * 101}, "A name has at most 100 characters."),
    ({"postcode": "1" * 13}, "A postcode has at most 12 characters."),
    ({"name": "a\x00b"}, "That has a character that can&#39;t be searched for."),
    ({"petition": "\x00"}, "That has a character that can&#39;t be searched for."),
    ({"before": "abc"}, "That page link is broken."),
    ({"before": "²"}, "That page link is broken."),
    ({"before": "99999999999"}, "That page link is broken."),
])
def test_bad_filter_values_get_422_and_a_clear_message(moderator_client, petition, params,
                                                       message):
    signer("Anyone", petition)

    response = search(moderator_client, **params)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "These filters can't be used yet" in page
    assert "Anyone" not in page


def test_results_come_in_pages_that_keep_the_filters(moderator_client, petition, monkeypatch):
    monkeypatch.setattr(signature_search, "PAGE_SIZE", 2)
    for n in range(5):
        signer(f"Match {n}", petition, postcode="AB1")
    signer("No match", petition, postcode="ZZ9")

    first = search(moderator_client, postcode="ab1")
    assert names(first) == ["Match 4", "Match 3"]
    assert "5 signatures match." in first.get_data(as_text=True)
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first.get_data(as_text=True)).group(1)
    second = moderator_client.get(next_link.replace("&amp;", "&"))
    assert names(second) == ["Match 2", "Match 1"]
    next_link = re.search(r'<a rel="next" href="([^"]+)"', second.get_data(as_text=True)).group(1)
    third = moderator_client.get(next_link.replace("&amp;", "&"))
    assert names(third) == ["Match 0"]
    assert 'rel="next"' not in third.get_data(as_text=True)


def test_filters_combine(moderator_client, petition):
    signer("Both", petition, ip_address="198.51.100.4", postcode="20004")
    signer("Only IP", petition, ip_address="198.51.100.5", postcode="99999")
    signer("Only postcode", PetitionFactory(), ip_address="198.51.100.6", postcode="20004")

    assert names(search(moderator_client, petition="clean-air", ip="198.51.100.0/24",
                        postcode="200")) == ["Both"]


def test_a_signature_id_beyond_the_id_range_is_404_not_an_error(moderator_client):
    assert moderator_client.get("/admin/signatures/99999999999").status_code == 404


def test_admins_and_moderators_may_search_and_anonymous_visitors_are_sent_to_log_in(
        admin_client, moderator_client, client, petition):
    signer("Someone", petition)

    assert names(search(admin_client)) == ["Someone"]
    assert names(search(moderator_client)) == ["Someone"]
    anonymous = search(client)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/admin/login")
