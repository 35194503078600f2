"""Allow and block rules: email-domain globs, IPs or CIDR networks, single addresses.

Every signature is checked against every rule, so each process keeps the rules in
memory, read again every RULES_CACHE_SECONDS and at once after any change to the table
committed by this process (TableVersion). A rule an admin adds therefore
applies at once where it was saved, and within a few seconds everywhere else.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Table, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import UpdateBase

from petitions.abuse.models import AccessRule, RuleAction, RuleKind
from petitions.extensions import db
from petitions.signing.canonical import canonical_email

RULES_CACHE_SECONDS = 5.0

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


@dataclass(frozen=True)
class Rule:
    """An access rule as matched: read once, its network parsed once."""

    kind: str
    pattern: str
    action: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None


def _loaded(kind: str, pattern: str, action: str) -> Rule:
    network = None
    if kind == RuleKind.IP:
        try:
            network = ipaddress.ip_network(pattern)
        except ValueError:  # a row written by hand that no longer parses: matches nothing
            pass
    return Rule(kind, pattern, action, network)


def matches(rule: AccessRule | Rule, email: str, ip: str | None) -> bool:
    if rule.kind == RuleKind.EMAIL_DOMAIN:
        return any(fnmatchcase(domain, rule.pattern) for domain in _domains(email))
    if rule.kind == RuleKind.IP:
        address = _address(ip)
        network = rule.network if isinstance(rule, Rule) else _loaded(
            rule.kind, rule.pattern, rule.action).network
        return address is not None and network is not None and address in network
    if rule.kind == RuleKind.EMAIL:
        return canonical_email(email) == rule.pattern
    return False


class TableVersion:
    """A number that changes whenever a transaction that wrote to `table` commits in this
    process, through the ORM or a Core statement: what a cache of the table compares."""

    def __init__(self, table: Table) -> None:
        self.name = table.name
        self._flag = f"wrote {table.name}"
        self._versions = itertools.count(1)  # next() is atomic: no lost change
        self.value = 0
        event.listen(Engine, "after_execute", self._noticed)
        event.listen(Engine, "commit", self._committed)
        event.listen(Engine, "rollback", self._rolled_back)

    def _noticed(self, connection: Connection, statement, *_args) -> None:
        if isinstance(statement, UpdateBase) and getattr(statement.table, "name", None) == self.name:
            connection.info[self._flag] = True

    def _committed(self, connection: Connection) -> None:
        if connection.info.pop(self._flag, False):
            self.value = next(self._versions)

    def _rolled_back(self, connection: Connection) -> None:
        connection.info.pop(self._flag, None)


_rules_version = TableVersion(AccessRule.__table__)


class _CachedRules:
    def __init__(self) -> None:
        self.rules: tuple[Rule, ...] = ()
        self.version = -1
        self.loaded_at = 0.0

    def current(self) -> tuple[Rule, ...]:
        now = time.monotonic()
        version = _rules_version.value
        # The setting is for the tests, which play another process writing the table.
        ttl = current_app.config.get("ACCESS_RULES_CACHE_SECONDS", RULES_CACHE_SECONDS)
        if version != self.version or now - self.loaded_at >= ttl:
            rows = db.session.execute(
                select(AccessRule.kind, AccessRule.pattern, AccessRule.action)).all()
            # One tuple, swapped in whole: threads reading meanwhile see old or new.
            self.rules = tuple(_loaded(*row) for row in rows)
            self.version, self.loaded_at = version, now
        return self.rules


def current_rules() -> tuple[Rule, ...]:
    """This app's rules (each app its own: the tests build several in one process)."""
    return current_app.extensions.setdefault("access_rules", _CachedRules()).current()


def check(email: str, ip: str | None) -> Verdict:
    """Allow wins over block: an allowed address is exempt from limits and blocks."""
    hits = {rule.action for rule in current_rules() if matches(rule, email, ip)}
    if RuleAction.ALLOW in hits:
        return Verdict(allowed=True)
    return Verdict(blocked=RuleAction.BLOCK in hits)
