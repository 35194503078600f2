"""DKIM: every kind of message we send verifies with dkimpy against the key `flask mail
dkim-keygen` made, after passing through a real SMTP server; bad settings stop start-up."""

from __future__ import annotations

import re
import stat

import dkim
import pytest

from petitions.config import ConfigError, load_settings
from petitions.mail.dkim import dkim_from_env
from tests.mail.every_kind import ADDRESSES, LIST_MAIL, send_every_kind

DOMAIN = "petitions.test"  # MAIL_FROM's domain in the tests
RECORD_LINE = re.compile(r"^(\S+)\. IN TXT \( (.+) \)$", re.MULTILINE)
ALWAYS_SIGNED = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                 b"content-type"}


def raw_messages(mail) -> dict[str, bytes]:
    """What the SMTP server received, byte for byte, by recipient."""
    return {m.to: (mail.store.folder / f"{m.id}.eml").read_bytes() for m in mail.messages}


def signature_tags(raw: bytes) -> dict[bytes, bytes]:
    header = dkim.DKIM(raw).headers[0]
    assert header[0].lower() == b"dkim-signature"
    return {name.strip(): value for name, _, value in
            (tag.partition(b"=") for tag in re.sub(rb"\s+", b"", header[1]).split(b";") if tag)}


@pytest.fixture
def published_key(app, runner, tmp_path):
    """A key from `flask mail dkim-keygen`, switched on; returns the DNS lookup that
    answers with the TXT record the command printed (and nothing else)."""
    key_file = tmp_path / "dkim.pem"
    result = runner.invoke(args=["mail", "dkim-keygen", "--selector", "sel2026",
                                 "--domain", DOMAIN, "--out", str(key_file)])
    assert result.exit_code == 0, result.output
    name, quoted = RECORD_LINE.search(result.output).groups()
    strings = re.findall(r'"([^"]*)"', quoted)
    assert all(len(s) <= 255 for s in strings) and len(strings) >= 2
    record = "".join(strings).encode()
    app.config["DKIM"] = dkim_from_env({"DKIM_SELECTOR": "sel2026", "DKIM_DOMAIN": DOMAIN,
                                        "DKIM_PRIVATE_KEY": str(key_file)}, DOMAIN)

    def dnsfunc(lookup: bytes, timeout: int = 5) -> bytes | None:
        return record if lookup == f"{name}.".encode() else None

    return dnsfunc


def test_every_kind_of_message_verifies_after_passing_through_a_real_smtp_server(
        app, mail, published_key):
    send_every_kind(app)

    received = raw_messages(mail)
    assert set(received) == set(ADDRESSES.values())
    for kind, address in ADDRESSES.items():
        raw = received[address]
        assert dkim.verify(raw, dnsfunc=published_key), kind
        tags = signature_tags(raw)
        assert (tags[b"a"], tags[b"c"], tags[b"d"], tags[b"s"]) == (
            b"rsa-sha256", b"relaxed/relaxed", DOMAIN.encode(), b"sel2026"), kind
        signed = set(tags[b"h"].split(b":"))
        assert ALWAYS_SIGNED <= signed, kind
        if kind in LIST_MAIL:
            assert {b"list-unsubscribe", b"list-unsubscribe-post", b"list-id"} <= signed, kind


def test_a_changed_subject_or_body_no_longer_verifies(app, mail, queue_confirmation,
                                                      published_key):
    from petitions.mail.delivery import deliver_due

    queue_confirmation(email="ana@example.net")
    deliver_due()
    [raw] = raw_messages(mail).values()
    assert dkim.verify(raw, dnsfunc=published_key)

    assert not dkim.verify(raw.replace(b"Subject: ", b"Subject: Re: ", 1), dnsfunc=published_key)
    assert not dkim.verify(raw.replace(b"http://petitions.test/", b"http://evil.test/", 1),
                           dnsfunc=published_key)
    # Relaxed canonicalization forgives what relays do to whitespace.
    refolded = raw.replace(b"\r\nSubject: ", b"\r\nSubject:   ", 1)
    assert dkim.verify(refolded, dnsfunc=published_key)


def test_without_dkim_settings_messages_go_out_unsigned(app, mail, queue_confirmation):
    from petitions.mail.delivery import deliver_due

    queue_confirmation(email="ana@example.net")
    deliver_due()
    [raw] = raw_messages(mail).values()
    assert b"DKIM-Signature" not in raw


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites(
        runner, tmp_path):
    key_file = tmp_path / "keys" / "mail.pem"
    first = runner.invoke(args=["mail", "dkim-keygen", "--out", str(key_file), "--bits", "1024"])
    again = runner.invoke(args=["mail", "dkim-keygen", "--out", str(key_file)])

    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "petitions._domainkey.petitions.test. IN TXT" in first.output
    assert '"v=DKIM1; k=rsa; p=' in first.output
    assert again.exit_code == 1
    assert "already exists" in again.output and "Traceback" not in again.output


def test_keygen_rejects_a_bad_selector_cleanly(runner, tmp_path):
    result = runner.invoke(args=["mail", "dkim-keygen", "--selector", "bad selector!",
                                 "--out", str(tmp_path / "k.pem")])
    assert result.exit_code == 2
    assert "--selector" in result.output and not (tmp_path / "k.pem").exists()


@pytest.fixture(scope="module")
def pem(tmp_path_factory) -> str:
    from petitions.mail.dkim import generate_private_key

    return generate_private_key(1024).decode()


def env_with(**values) -> dict:
    return {"BASE_URL": "https://petitions.example.org",
            "MAIL_FROM": "Petitions <petitions@example.org>", **values}


def test_the_key_may_be_a_path_or_the_pem_itself_with_escaped_line_breaks(pem, tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(pem)
    escaped = pem.strip().replace("\n", "\\n")

    for key in (str(path), pem, escaped):
        settings = load_settings(env_with(DKIM_SELECTOR="s1", DKIM_DOMAIN="example.org",
                                          DKIM_PRIVATE_KEY=key), str(tmp_path))
        assert (settings["DKIM"].selector, settings["DKIM"].domain) == ("s1", "example.org")
    assert load_settings(env_with(), str(tmp_path))["DKIM"] is None


@pytest.mark.parametrize(("values", "variable", "problem"), [
    ({"DKIM_SELECTOR": "s1", "DKIM_DOMAIN": "example.org"}, "DKIM_PRIVATE_KEY", "is required"),
    ({"DKIM_PRIVATE_KEY": "PEM"}, "DKIM_SELECTOR", "is required"),
    ({"DKIM_SELECTOR": "s 1", "DKIM_DOMAIN": "example.org", "DKIM_PRIVATE_KEY": "PEM"},
     "DKIM_SELECTOR", "letters, digits"),
    ({"DKIM_SELECTOR": "s1", "DKIM_DOMAIN": "other.example", "DKIM_PRIVATE_KEY": "PEM"},
     "DKIM_DOMAIN", "MAIL_FROM's domain"),
    ({"DKIM_SELECTOR": "s1", "DKIM_DOMAIN": "example.org", "DKIM_PRIVATE_KEY": "/no/such.pem"},
     "DKIM_PRIVATE_KEY", "neither a PEM key nor a readable file"),
    ({"DKIM_SELECTOR": "s1", "DKIM_DOMAIN": "example.org",
      "DKIM_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nbm90IGEga2V5\\n-----END PRIVATE KEY-----"},
     "DKIM_PRIVATE_KEY", "not an RSA private key"),
    ({"BOUNCE_ADDRESS": "bounces+x@example.org"}, "BOUNCE_ADDRESS", "without '+'"),
    ({"BOUNCE_ADDRESS": "not an address"}, "BOUNCE_ADDRESS", "not a valid address"),
])
def test_incomplete_or_broken_settings_stop_start_up_with_one_clear_line(
        pem, tmp_path, values, variable, problem):
    values = {k: (pem if v == "PEM" else v) for k, v in values.items()}
    with pytest.raises(ConfigError) as caught:
        load_settings(env_with(**values), str(tmp_path))
    assert caught.value.variable == variable
    assert problem in caught.value.problem
    assert "\n" not in str(caught.value)


def test_a_dkim_domain_may_be_a_parent_of_the_sender_domain(pem, tmp_path):
    settings = load_settings(env_with(MAIL_FROM="P <p@mail.example.org>", DKIM_SELECTOR="s1",
                                      DKIM_DOMAIN="example.org", DKIM_PRIVATE_KEY=pem),
                             str(tmp_path))
    assert settings["DKIM"].domain == "example.org"
