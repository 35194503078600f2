"""Allow and block rules: email-domain globs, IPs or CIDR networks, single addresses."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from flask_babel import gettext as _
from sqlalchemy import select

from petitions.abuse.models import AccessRule, RuleAction, RuleKind
from petitions.extensions import db
from petitions.signing.canonical import canonical_email

DOMAIN_GLOB = re.compile(r"^[\w*?.\-]+$")


class BadPattern(ValueError):
    """The message is shown to the admin as it is."""


def normalise_pattern(kind: str, pattern: str) -> str:
    """The pattern as stored and matched; raises BadPattern with a message for the admin."""
    pattern = (pattern or "").strip()
    if not pattern:
        raise BadPattern(_("Enter a pattern."))
    if kind == RuleKind.EMAIL_DOMAIN:
        pattern = pattern.lower().lstrip("@")
        if len(pattern) > 254 or not DOMAIN_GLOB.match(pattern):
            raise BadPattern(_("Enter a domain such as example.com or *.example.com "
                               "(letters, digits, dots, hyphens, * and ?)."))
        if not pattern.strip("*?."):
            raise BadPattern(_("That pattern would match every address."))
        return pattern
    if kind == RuleKind.IP:
        try:
            network = ipaddress.ip_network(pattern, strict=True)
        except ValueError as exc:
            if "host bits set" in str(exc):
                suggestion = ipaddress.ip_network(pattern, strict=False)
                raise BadPattern(_("%(pattern)s is not a network. Did you mean %(suggestion)s?",
                                   pattern=pattern, suggestion=suggestion)) from None
            raise BadPattern(_("Enter an IP address such as 203.0.113.7, or a network such "
                               "as 203.0.113.0/24 or 2001:db8::/32.")) from None
        if network.prefixlen == 0:
            raise BadPattern(_("That network would match every address."))
        return str(network)
    if kind == RuleKind.EMAIL:
        if len(pattern) > 254 or pattern.count("@") != 1 or pattern.startswith("@") \
                or pattern.endswith("@") or any(c.isspace() for c in pattern):
            raise BadPattern(_("Enter one email address, such as name@example.com."))
        return canonical_email(pattern)
    raise BadPattern(_("Choose what kind of rule this is."))


def _address(ip: str | None):
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _domains(email: str) -> set[str]:
    domains = {email.rpartition("@")[2].strip().lower()}
    domains.add(canonical_email(email).rpartition("@")[2])
    return {d for d in domains if d}


@dataclass(frozen=True)
class Verdict:
    allowed: bool = False
    blocked: bool = False


def matches(rule: AccessRule, email: str, ip: str | None) -> bool:
    if rule.kind == RuleKind.EMAIL_DOMAIN:
        return any(fnmatchcase(domain, rule.pattern) for domain in _domains(email))
    if rule.kind == RuleKind.IP:
        address = _address(ip)
        try:
            return address is not None and address in ipaddress.ip_network(rule.pattern)
        except ValueError:  # a row written by hand that no longer parses
            return False
    if rule.kind == RuleKind.EMAIL:
        return canonical_email(email) == rule.pattern
    return False


def check(email: str, ip: str | None) -> Verdict:
    """Allow wins over block: an allowed address is exempt from limits and blocks."""
    rules = db.session.scalars(select(AccessRule)).all()
    hits = {rule.action for rule in rules if matches(rule, email, ip)}
    if RuleAction.ALLOW in hits:
        return Verdict(allowed=True)
    return Verdict(blocked=RuleAction.BLOCK in hits)
