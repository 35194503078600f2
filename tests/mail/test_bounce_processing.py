"""Bounces and complaints matched to the outbox row they are about: VERP envelope senders,
`flask mail process-bounce` over RFC 3464 / RFC 5965 samples, and the webhook."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.delivery import deliver_due
from petitions.mail.models import OutboxMessage, SoftBounceStreak, Suppression
from petitions.mail.suppression import unsuppress
from petitions.mail.verp import token_reader
from tests.factories import SubscriberFactory

SAMPLES = Path(__file__).parent / "samples"
BOUNCES = "bounces@petitions.test"
TOKEN = "bounce-token-" + "x" * 20


@pytest.fixture
def verp(app):
    app.config["BOUNCE_ADDRESS"] = BOUNCES
    return token_reader(app.config)


@pytest.fixture
def sent(app, mail, add_outbox, verp):
    """Send one message to each address through the sink; the rows, in order."""

    def send(*addresses: str) -> list[OutboxMessage]:
        rows = add_outbox(*addresses)
        assert deliver_due()["sent"] == len(addresses)
        return rows

    return send


def sample(name: str, row: OutboxMessage | None = None, *, verp_address: str | None = None,
           recipient: str | None = None, **more: str) -> bytes:
    text = (SAMPLES / name).read_text()
    values = {"VERP_ADDRESS": verp_address or BOUNCES}
    if row is not None:
        values |= {"RECIPIENT": recipient or row.to_address, "ORIGINAL_MESSAGE_ID": row.message_id}
    values |= more
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text.encode()


def process(runner, raw: bytes, *args: str):
    return runner.invoke(args=["mail", "process-bounce", *args], input=raw)


def suppressions() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(s.canonical_email, s.reason)
            for s in db.session.scalars(select(Suppression).order_by(Suppression.id))]


def streak(address: str) -> int:
    db.session.expire_all()
    found = db.session.scalar(select(SoftBounceStreak.bounces)
                              .where(SoftBounceStreak.canonical_email == address))
    return found or 0


# --- the envelope sender -------------------------------------------------------------------

def test_with_a_bounce_address_each_message_has_a_verp_sender_naming_its_row(
        app, mail, sent, verp):
    first, second = sent("ana@example.net", "bo@example.net")

    senders = [envelope[0] for envelope in mail.envelopes]
    assert all(s.startswith("bounces+") and s.endswith("@petitions.test") for s in senders)
    assert [verp.outbox_id(s) for s in senders] == [first.id, second.id]
    # Some servers lowercase or uppercase local parts; the token survives both.
    assert verp.outbox_id(senders[0].upper()) == first.id
    local = senders[0].split("@")[0]
    assert all(ch.isalnum() or ch in "+." for ch in local) and len(local) < 64


def test_without_a_bounce_address_the_envelope_sender_is_mail_from(app, mail, add_outbox):
    add_outbox("ana@example.net")
    deliver_due()
    assert mail.envelopes == [("petitions@petitions.test", ["ana@example.net"])]


def test_a_forged_or_altered_token_matches_nothing(app, verp):
    token = verp.token(42)
    outbox_id, mac = token.split(".")
    assert verp.outbox_id(f"bounces+{token}@petitions.test") == 42
    assert verp.outbox_id(f"bounces+43.{mac}@petitions.test") is None
    assert verp.outbox_id(f"bounces+42.{'a' * 16}@petitions.test") is None
    app.config["SECRET_KEY"], old = "another key " + "k" * 30, app.config["SECRET_KEY"]
    assert token_reader(app.config).outbox_id(token) is None
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert token_reader(app.config).outbox_id(token) == 42  # after a key rotation


# --- flask mail process-bounce ------------------------------------------------------------

def test_a_hard_bounce_to_the_verp_address_suppresses_the_address_it_was_sent_to(
        app, runner, sent, verp):
    [row] = sent("gone@example.net")

    result = process(runner, sample("hard_bounce.eml", row, verp_address=verp.address(row.id)))

    assert result.exit_code == 0, result.output
    assert result.output == f"hard_bounce for gone@example.net (outbox {row.id}, 5.1.1): suppressed.\n"
    assert suppressions() == [("gone@example.net", "hard_bounce")]


def test_a_hard_bounce_without_a_token_matches_by_message_id_and_recipient(app, runner, sent):
    [row] = sent("gone@example.net")

    result = process(runner, sample("hard_bounce.eml", row))

    assert result.exit_code == 0, result.output
    assert suppressions() == [("gone@example.net", "hard_bounce")]


def test_the_envelope_recipient_option_carries_the_token_when_headers_do_not(
        app, runner, sent, verp):
    [row] = sent("gone@example.net")
    raw = sample("hard_bounce.eml", row, ORIGINAL_MESSAGE_ID="<unknown@elsewhere.example>")

    without = process(runner, raw)
    given = process(runner, raw, "--recipient", verp.address(row.id))

    assert without.exit_code == 1 and "matches none of our messages" in without.output
    assert given.exit_code == 0, given.output
    assert suppressions() == [("gone@example.net", "hard_bounce")]


def test_a_report_about_someone_else_or_an_unknown_message_changes_nothing(app, runner, sent):
    [row] = sent("ana@example.net")

    other_recipient = process(runner, sample("hard_bounce.eml", row, recipient="bo@example.net"))
    unknown_message = process(runner, sample("hard_bounce.eml", row,
                                             ORIGINAL_MESSAGE_ID="<nope@petitions.test>"))
    forged = process(runner, sample("hard_bounce.eml", row,
                                    verp_address=f"bounces+{row.id}.{'b' * 16}@petitions.test",
                                    ORIGINAL_MESSAGE_ID="<nope@petitions.test>"))

    for result in (other_recipient, unknown_message, forged):
        assert result.exit_code == 1
        assert "matches none of our messages" in result.output
        assert result.output.rstrip().endswith("nothing changed.")
        assert "Traceback" not in result.output
    assert suppressions() == []


def soft(runner, row, verp, action="delayed", status="4.2.2"):
    return process(runner, sample("soft_bounce.eml", row, verp_address=verp.address(row.id),
                                  DSN_ACTION=action, DSN_STATUS=status))


def test_three_soft_bounces_in_a_row_suppress_the_address(app, runner, sent, verp):
    rows = sent(*["full@example.net"] * 3)

    first, second = soft(runner, rows[0], verp), soft(runner, rows[1], verp)
    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert "soft_bounce for full@example.net" in first.output and "counted" in first.output
    assert suppressions() == [] and streak("full@example.net") == 2

    third = soft(runner, rows[2], verp, action="failed", status="4.2.2")

    assert third.exit_code == 0, third.output
    assert "suppressed" in third.output
    [(address, reason)] = suppressions()
    assert (address, reason) == ("full@example.net", "soft_bounce")
    detail = db.session.scalar(select(Suppression.detail))
    assert detail.startswith("3 soft bounces in a row")


def test_one_message_reported_delayed_then_failed_counts_once(app, runner, sent, verp):
    first, second = sent("full@example.net", "full@example.net")

    soft(runner, first, verp)
    soft(runner, first, verp, action="failed", status="4.4.7")
    soft(runner, second, verp)

    assert streak("full@example.net") == 2 and suppressions() == []


def test_a_delivery_report_ends_the_streak_but_a_send_to_the_relay_does_not(
        app, runner, sent, verp):
    rows = sent(*["full@example.net"] * 5)
    soft(runner, rows[0], verp)
    soft(runner, rows[1], verp)
    sent("full@example.net")  # accepted by our relay: proves nothing about the mailbox
    assert streak("full@example.net") == 2

    delivered = soft(runner, rows[2], verp, action="delivered", status="2.0.0")
    assert delivered.exit_code == 0 and "streak ended" in delivered.output
    soft(runner, rows[3], verp)
    soft(runner, rows[4], verp)

    assert streak("full@example.net") == 2 and suppressions() == []


def test_unsuppressing_forgets_the_soft_bounces(app, runner, sent, verp):
    rows = sent(*["full@example.net"] * 3)
    for row in rows:
        soft(runner, row, verp)
    assert suppressions() == [("full@example.net", "soft_bounce")]

    unsuppress("full@example.net")
    db.session.commit()

    assert suppressions() == [] and streak("full@example.net") == 0


def test_an_arf_complaint_suppresses_and_unsubscribes_even_with_the_recipient_redacted(
        app, runner, sent, verp):
    SubscriberFactory(email="reader@example.net")
    [row] = sent("reader@example.net")

    result = process(runner, sample("complaint.eml", row, verp_address=verp.address(row.id),
                                    recipient="redacted@fbl.mail.example.net"))

    assert result.exit_code == 0, result.output
    assert result.output == (f"complaint for reader@example.net (outbox {row.id}): "
                             "suppressed, unsubscribed.\n")
    assert suppressions() == [("reader@example.net", "complaint")]


@pytest.mark.parametrize(("raw", "message"), [
    (b"", "the input is empty"),
    (b"\x00\xff\xfe garbage \x80", "not a bounce or complaint report"),
    ((SAMPLES / "not_a_report.eml").read_bytes(), "the message is text/plain, not multipart/report"),
    (b"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n"
     b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b--\r\n", "report-type 'disposition-notification'"),
    (b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
     b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n", "has no message/delivery-status part"),
    (b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
     b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
     b"Final-Recipient: rfc822; a@example.net\r\nStatus: 5.1.1\r\n\r\n--b--\r\n", "names no recipient"),
    (b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
     b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
     b"Final-Recipient: rfc822; a@example.net\r\nAction: failed\r\n\r\n--b--\r\n", "without a Status"),
    (b"Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"
     b"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: not-spam\r\n\r\n--b--\r\n",
     "is not a complaint"),
])
def test_bad_input_is_one_clear_line_and_a_failing_exit_code(app, runner, raw, message):
    result = process(runner, raw)

    assert result.exit_code == 1
    assert message in result.output, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert suppressions() == []


# --- the webhook ------------------------------------------------------------------------

@pytest.fixture
def webhook(app):
    app.config["BOUNCE_WEBHOOK_TOKEN"] = TOKEN
    client = app.test_client(use_cookies=False)

    def post(body):
        return client.post("/webhooks/bounce", json=body,
                           headers={"Authorization": f"Bearer {TOKEN}"})

    return post


def test_the_webhook_matches_reports_by_verp_and_counts_each_message_once(
        app, sent, verp, webhook):
    hard, *full = sent("gone@example.net", *["full@example.net"] * 3)

    response = webhook([
        {"email": "gone@example.net", "type": "hard_bounce", "verp": verp.address(hard.id)},
        {"email": "full@example.net", "type": "soft_bounce", "verp": verp.address(full[0].id)},
        {"email": "full@example.net", "type": "soft_bounce", "verp": verp.token(full[0].id)},
        {"email": "full@example.net", "type": "soft_bounce", "verp": verp.address(full[1].id)},
    ])
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"received": 4, "suppressed": 1, "already_suppressed": 0,
                                   "unsubscribed": 0, "ignored": 3}
    assert streak("full@example.net") == 2

    third = webhook({"email": "full@example.net", "type": "soft_bounce",
                     "verp": verp.address(full[2].id)})
    assert third.get_json()["suppressed"] == 1
    assert suppressions() == [("gone@example.net", "hard_bounce"),
                              ("full@example.net", "soft_bounce")]


def test_the_webhook_without_verp_still_counts_soft_bounces_and_takes_deliveries(
        app, webhook):
    for _ in range(2):
        webhook({"email": "full@example.net", "type": "soft_bounce", "detail": "mailbox full"})
    assert webhook({"email": "full@example.net", "type": "delivered"}).status_code == 200
    webhook({"email": "full@example.net", "type": "soft_bounce"})

    assert streak("full@example.net") == 1 and suppressions() == []


def test_a_webhook_complaint_with_verp_unsubscribes(app, sent, verp, webhook):
    SubscriberFactory(email="reader@example.net")
    [row] = sent("reader@example.net")

    response = webhook({"email": "reader@example.net", "type": "complaint",
                        "verp": verp.address(row.id)})

    assert response.get_json()["unsubscribed"] == 1
    assert suppressions() == [("reader@example.net", "complaint")]


@pytest.mark.parametrize(("report", "message"), [
    ({"email": "ana@example.net", "type": "hard_bounce", "verp": "bounces+1.aaaaaaaaaaaaaaaa@x"},
     "verp is not a return path of ours"),
    ({"email": "ana@example.net", "type": "hard_bounce", "verp": 7}, "verp must be"),
    ({"email": "someone.else@example.net", "type": "hard_bounce", "verp": "ROW"},
     "email is not the address that message was sent to"),
])
def test_a_bad_verp_is_a_400_and_stores_nothing(app, sent, verp, webhook, report, message):
    [row] = sent("ana@example.net")
    report = dict(report)  # the parameter is shared by every backend's run
    if report.get("verp") == "ROW":
        report["verp"] = verp.address(row.id)

    response = webhook([{"email": "ok@example.net", "type": "hard_bounce"}, report])

    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert suppressions() == []
