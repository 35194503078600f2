"""The pipelined SMTP path (RFC 2920), against a server that offers PIPELINING."""

from __future__ import annotations

import pytest

from petitions.config import parse_smtp_url
from petitions.extensions import db
from petitions.mail import delivery, queue_email
from petitions.mail.models import OutboxMessage
from tests.support.pipelining_smtp import PipeliningSmtpServer
from tests.support.processes import free_port


@pytest.fixture
def pipelining_server(app, tmp_path):
    server = PipeliningSmtpServer(tmp_path / "pipelined", free_port())
    server.start()
    app.config["SMTP"] = parse_smtp_url(server.url)
    yield server
    server.stop()


def queue(app, *addresses: str, text: str = "Hello") -> list[OutboxMessage]:
    with app.test_request_context():
        rows = [queue_email("signature_already_confirmed", address, {
            "signature": type("S", (), {"name": text})(),
            "petition": type("P", (), {"title": "A petition"})(),
            "petition_url": "http://petitions.test/petitions/a",
        }) for address in addresses]
        db.session.commit()
    return rows


def states(rows) -> list[str]:
    db.session.expire_all()
    return [db.session.get(OutboxMessage, row.id).state for row in rows]


def test_a_batch_goes_out_pipelined_over_one_connection(app, pipelining_server):
    rows = queue(app, "a@example.org", "b@example.org", "c@example.org")

    assert delivery.deliver_due()["sent"] == 3

    assert pipelining_server.pipelined_transactions == 3
    assert pipelining_server.connections == 1
    assert sorted(m.to for m in pipelining_server.store.all()) == [
        "a@example.org", "b@example.org", "c@example.org"]
    assert states(rows) == ["sent"] * 3


def test_lines_starting_with_a_dot_survive_dot_stuffing(app, pipelining_server):
    queue(app, "dots@example.org", text="Ana\n.hidden line\n..two dots")

    delivery.deliver_due()

    [message] = pipelining_server.store.all()
    assert ".hidden line\n..two dots" in message.part("plain").replace("\r\n", "\n")


def test_a_refused_recipient_fails_alone_and_the_connection_carries_on(app, pipelining_server):
    pipelining_server.rules["gone@"] = "550 5.1.1 No such user"
    pipelining_server.rules["busy@"] = "451 4.2.1 Try later"
    rows = queue(app, "gone@example.org", "busy@example.org", "fine@example.org")

    totals = delivery.deliver_due()

    assert (totals["sent"], totals["failed"], totals["retry"]) == (1, 1, 1)
    assert states(rows) == ["failed", "pending", "sent"]
    assert [m.to for m in pipelining_server.store.all()] == ["fine@example.org"]
    assert pipelining_server.connections == 1
    db.session.expire_all()
    assert "550 5.1.1 No such user" in db.session.get(OutboxMessage, rows[0].id).last_error


def test_a_refused_sender_keeps_every_message_for_later(app, pipelining_server):
    pipelining_server.rules["FROM:"] = "530 5.7.0 Authentication required"
    rows = queue(app, "a@example.org", "b@example.org")

    totals = delivery.deliver_due()

    assert totals["sent"] == 0
    assert states(rows) == ["pending", "pending"]
    assert pipelining_server.store.all() == []
