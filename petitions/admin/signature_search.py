"""Signature search: what the filters mean, and the SQL they become.

The same conditions serve the search page, the bulk-invalidation preview and the bulk
invalidation itself, so the count a moderator confirms is the count of what is changed.

Dates are days in the site's time zone (SITE_TIMEZONE), inclusive at both ends: "from
3 May to 3 May" is the 24 hours of 3 May there, converted to UTC for the query.

IP addresses are stored as the text the web server gave (inet_ntop's canonical form:
"203.0.113.7", "2001:db8::7"). A network becomes a plain text condition that means the
same on SQLite and PostgreSQL, with no casts (a cast would fail the whole query on one
odd stored value):
- IPv4: the prefix is expanded to LIKE patterns over whole octets. 203.0.113.0/24 is
  LIKE '203.0.113.%'; a mask inside an octet gives one pattern per value of that octet
  (/20 gives 16, /26 gives 64 exact addresses; never more than 128), each also in its
  IPv4-mapped IPv6 form ("::ffff:203.0.113.7").
- IPv6: compressed text has no fixed prefix, so the stored addresses that could match
  (LIKE on the leading non-zero groups) are read once, tested exactly in Python, and the
  network becomes ip_address IN (those addresses). That list is bounded: a network that
  would need more than MAX_NETWORK_ADDRESSES distinct candidates is refused as too broad.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, String, false, func, or_, select
from sqlalchemy.orm import joinedload

from petitions.admin.clock import site_zone
from petitions.admin.moderation_forms import SearchForm
from petitions.extensions import db
from petitions.signing.canonical import canonical_email
from petitions.signing.models import Petition, Signature, SignatureState

PAGE_SIZE = 100
MAX_NETWORK_ADDRESSES = 10_000
MIN_PREFIX = {4: 8, 6: 16}
MAPPED = "::ffff:"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class FilterError(ValueError):
    """A filter value that cannot be searched for; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SignatureFilters:
    petition_slug: str = ""
    petition_id: int | None = None
    email: str = ""
    name: str = ""
    domain: str = ""
    network: Network | None = None
    postcode: str = ""
    date_from: date | None = None
    date_to: date | None = None
    state: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as query-string parameters (links, hidden inputs, the audit log)."""
        values = {
            "petition": self.petition_slug,
            "email": self.email,
            "name": self.name,
            "domain": self.domain,
            "ip": network_text(self.network) if self.network else "",
            "postcode": self.postcode,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "state": self.state,
        }
        return {key: value for key, value in values.items() if value}

    def __bool__(self) -> bool:
        return bool(self.as_args())


def network_text(network: Network) -> str:
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


# --- parsing ------------------------------------------------------------------------------

def parse_filters(form: SearchForm) -> SignatureFilters | None:
    """Validate the form; the filters, or None with messages on the form's fields."""
    valid = form.validate()
    parsed: dict = {}
    for name, parse in _PARSERS.items():
        text = form[name].data or ""
        if form[name].errors or not text:
            continue
        try:
            if "\x00" in text:  # PostgreSQL refuses NUL in text: it can match nothing
                raise FilterError(name, _("That has a character that can't be searched for."))
            parsed.update(parse(text))
        except FilterError as error:
            form[error.field].errors.append(error.message)
            valid = False
    if valid and parsed.get("date_from") and parsed.get("date_to") \
            and parsed["date_from"] > parsed["date_to"]:
        form.date_to.errors.append(_("The end date is before the start date."))
        valid = False
    return SignatureFilters(**parsed) if valid else None


def _petition(slug: str) -> dict:
    petition_id = db.session.scalar(select(Petition.id).where(Petition.slug == slug))
    if petition_id is None:
        raise FilterError("petition", _("There is no petition at that address."))
    return {"petition_slug": slug, "petition_id": petition_id}


def _email(text: str) -> dict:
    if "@" not in text:
        raise FilterError("email", _("Enter a whole email address, like name@example.org. "
                                     "To search part of an address, use the domain filter."))
    return {"email": text.lower()}


def _domain(text: str) -> dict:
    domain = text.lower().removeprefix("@")
    if "@" in domain or any(c.isspace() for c in domain):
        raise FilterError("domain", _("Enter only the part after the @, like example.org."))
    return {"domain": domain}


def _state(text: str) -> dict:
    if text not in {s.value for s in SignatureState}:
        raise FilterError("state", _("Choose pending, confirmed or invalidated."))
    return {"state": text}


def parse_network(text: str) -> Network:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise FilterError("ip", _("Enter an IP address like 203.0.113.7 or 2001:db8::7, or a "
                                  "network like 203.0.113.0/24 or 2001:db8::/48.")) from None
    mapped = getattr(network.network_address, "ipv4_mapped", None)
    if mapped is not None and network.prefixlen == 128:
        network = ipaddress.ip_network(mapped)
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise FilterError("ip", _("That network is too broad: use a prefix of /%(min)d or longer.",
                                  min=MIN_PREFIX[network.version]))
    return network


def parse_day(text: str, field_name: str) -> date:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
        day_bounds(day)  # years at the very ends of the calendar cannot be converted
    except (ValueError, OverflowError):
        raise FilterError(field_name, _("Enter a date like 2024-05-31.")) from None
    return day


# Each takes the field's non-empty text and returns SignatureFilters arguments.
_PARSERS = {
    "petition": _petition,
    "email": _email,
    "name": lambda text: {"name": text},
    "domain": _domain,
    "ip": lambda text: {"network": parse_network(text)},
    "postcode": lambda text: {"postcode": "".join(text.split()).upper()},
    "date_from": lambda text: {"date_from": parse_day(text, "date_from")},
    "date_to": lambda text: {"date_to": parse_day(text, "date_to")},
    "state": _state,
}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start of `day` and of the day after, in the site's time zone."""
    zone = site_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# --- conditions ---------------------------------------------------------------------------

def _lower(column) -> ColumnElement:
    # SQLite's lower() folds ASCII letters only; PostgreSQL's folds every letter.
    return func.lower(column, type_=String)


def conditions(filters: SignatureFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions on Signature for these filters.

    Raises FilterError("ip", ...) when an IPv6 network is too broad to resolve.
    """
    where: list[ColumnElement[bool]] = []
    if filters.petition_id is not None:
        where.append(Signature.petition_id == filters.petition_id)
    if filters.email:
        where.append(or_(Signature.canonical_email == canonical_email(filters.email),
                         _lower(Signature.email) == filters.email))
    if filters.name:
        where.append(_lower(Signature.name).contains(filters.name.lower(), autoescape=True))
    if filters.domain:
        suffix = "@" + filters.domain
        where.append(or_(_lower(Signature.email).endswith(suffix, autoescape=True),
                         Signature.canonical_email.endswith(suffix, autoescape=True)))
    if filters.postcode:
        compact = func.upper(func.replace(Signature.postcode, " ", ""), type_=String)
        where.append(compact.startswith(filters.postcode, autoescape=True))
    if filters.date_from:
        where.append(Signature.created_at >= day_bounds(filters.date_from)[0])
    if filters.date_to:
        where.append(Signature.created_at < day_bounds(filters.date_to)[1])
    if filters.state:
        where.append(Signature.state == filters.state)
    if filters.network is not None:
        # Last, so an IPv6 network's candidates are read within the other filters only.
        where.append(ip_condition(filters.network, where))
    return where


def ip_condition(network: Network, within: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    if network.version == 4:
        return _ipv4_condition(network)
    return _ipv6_condition(network, within)


def _ipv4_condition(network: ipaddress.IPv4Network) -> ColumnElement[bool]:
    octets = str(network.network_address).split(".")
    whole, spare_bits = divmod(network.prefixlen, 8)
    head = octets[:whole]
    if whole == 4:
        exact, prefixes = [".".join(octets)], []
    elif spare_bits == 0:
        exact, prefixes = [], [".".join(head) + "."]
    else:
        first = int(octets[whole])
        values = [str(v) for v in range(first, first + 2 ** (8 - spare_bits))]
        if whole == 3:
            exact, prefixes = [".".join([*head, v]) for v in values], []
        else:
            exact, prefixes = [], [".".join([*head, v]) + "." for v in values]
    terms: list[ColumnElement[bool]] = []
    if exact:
        terms.append(Signature.ip_address.in_(exact + [MAPPED + a for a in exact]))
    for prefix in prefixes:
        # Digits and dots are not LIKE wildcards, and the trailing dot stops "10." at 10.
        terms.append(Signature.ip_address.startswith(prefix))
        terms.append(Signature.ip_address.startswith(MAPPED + prefix))
    return or_(*terms)


def _ipv6_condition(network: ipaddress.IPv6Network,
                    within: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    stored = _lower(Signature.ip_address)
    if network.prefixlen == 128:
        address = network.network_address
        return stored.in_(sorted({address.compressed, address.exploded}))
    leading: list[str] = []
    for group in network.network_address.exploded.split(":")[: network.prefixlen // 16]:
        if int(group, 16) == 0:
            break  # a zero group may be folded into "::": no fixed text from here on
        leading.append(format(int(group, 16), "x"))
    candidates_like = stored.startswith(":".join(leading) + ":") if leading else \
        stored.contains(":")
    candidates = db.session.scalars(
        select(Signature.ip_address).where(candidates_like, *within).distinct()
        .limit(MAX_NETWORK_ADDRESSES + 1)
    ).all()
    if len(candidates) > MAX_NETWORK_ADDRESSES:
        raise FilterError("ip", _("That network covers too many addresses to search. Use a "
                                  "longer prefix, or add a petition or dates."))
    inside = [text for text in candidates if _in_network(text, network)]
    return Signature.ip_address.in_(inside) if inside else false()


def _in_network(text: str, network: ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(text) in network
    except ValueError:
        return False


# --- results ------------------------------------------------------------------------------

def count_matching(where: list[ColumnElement[bool]]) -> int:
    return db.session.scalar(select(func.count(Signature.id)).where(*where)) or 0


def page_of(where: list[ColumnElement[bool]],
            before: int | None) -> tuple[list[Signature], int | None]:
    """Newest first, PAGE_SIZE at a time (keyset on id); returns the rows and the
    `before` value of the next page, or None on the last page."""
    size = PAGE_SIZE
    query = select(Signature).options(joinedload(Signature.petition)).where(*where)
    if before is not None:
        query = query.where(Signature.id < before)
    rows = db.session.scalars(query.order_by(Signature.id.desc()).limit(size + 1)).all()
    if len(rows) > size:
        return list(rows[:size]), rows[size - 1].id
    return list(rows), None
