"""The admin's update pages: write, preview, edit, test, send (once), resume, progress,
milestone switch; for moderators as for admins; CSRF on every POST."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.database import utcnow
from petitions.extensions import db
from petitions.mail import delivery
from petitions.mail.models import OutboxMessage
from petitions.signing.models import Petition
from petitions.updates.models import PetitionUpdate
from tests.admin.conftest import csrf_from
from tests.factories import PetitionFactory
from tests.updates.helpers import (
    copies_per_recipient,
    draft,
    ledger,
    publish_and_send,
    reload,
    send_published,
    signer,
    update_mail,
)


@pytest.fixture
def petition(app):
    petition = PetitionFactory(slug="save-the-library", title="Save the library")
    signer(petition, "ana@example.org")
    signer(petition, "ben@example.org")
    signer(petition, "quiet@example.org", email_updates=False)
    return petition


def base(petition) -> str:
    return f"/admin/petitions/{petition.slug}/updates"


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def updates() -> list[PetitionUpdate]:
    db.session.expire_all()
    return list(db.session.scalars(select(PetitionUpdate).order_by(PetitionUpdate.id)))


def test_anonymous_visitors_are_sent_to_log_in(client, petition):
    update = draft(petition)
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    for method, url in [("GET", "/"), ("GET", "/new"), ("POST", "/new"),
                        ("GET", f"/{update.id}"), ("GET", f"/{update.id}/edit"),
                        ("POST", f"/{update.id}/test"), ("GET", f"/{update.id}/send"),
                        ("POST", f"/{update.id}/send"), ("POST", f"/{update.id}/resume"),
                        ("POST", "/milestones")]:
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(base(petition) + url, method=method, data=data)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/admin/login"), (method, url)
    assert reload(update).state == "draft"


def test_a_moderator_writes_previews_and_saves_a_draft(moderator_client, petition):
    form = {"title": "We delivered it", "body": "The **Mayor** has it.\r\n\r\n<script>x</script>"}

    preview = post(moderator_client, base(petition) + "/new", preview="Preview", **form)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Preview (not saved yet)" in page and "<strong>Mayor</strong>" in page
    assert "<script>x</script>" not in page
    assert updates() == []

    saved = post(moderator_client, base(petition) + "/new", save="Save draft", **form)

    [update] = updates()
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"{base(petition)}/{update.id}"
    assert (update.title, update.body, update.state, update.kind) == (
        "We delivered it", "The **Mayor** has it.\n\n<script>x</script>", "draft", "manual")
    assert update.created_by_id == moderator_client.account.id and update.published_at is None
    [entry] = audit("update_created")
    assert entry.actor_id == moderator_client.account.id
    assert (entry.target_type, entry.target_id) == ("petition_updates", str(update.id))
    shown = moderator_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "2 signers would get it if you sent it now." in shown


@pytest.mark.parametrize("title, body, message", [
    ("", "Text", "Give the update a title."),
    ("x" * 201, "Text", "Use 200 characters or fewer."),
    ("Title", "", "Write the update."),
    ("Title", "y" * 20_001, "Use 20000 characters or fewer."),
    ("Bell\x07", "Text", "Please remove special characters."),
])
def test_bad_input_is_explained_and_nothing_is_saved(admin_client, petition, title, body,
                                                     message):
    response = post(admin_client, base(petition) + "/new", title=title, body=body, save="Save")

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert updates() == []


def test_a_draft_can_be_edited_but_a_sent_update_cannot(admin_client, petition):
    update = draft(petition, title="Old title")
    url = f"{base(petition)}/{update.id}/edit"
    assert "Old title" in admin_client.get(url).get_data(as_text=True)

    edited = post(admin_client, url, title="New title", body="New text", save="Save")

    assert edited.status_code == 303
    assert (reload(update).title, reload(update).body) == ("New title", "New text")
    assert audit("update_edited")[0].detail["fields"] == ["title", "body"]

    publish_and_send(reload(update))
    refused = post(admin_client, url, title="Changed after sending", body="x", save="Save")
    assert refused.status_code == 409
    assert admin_client.get(url).status_code == 409
    assert reload(update).title == "New title"


def test_a_test_send_goes_only_to_me_marked_test_and_leaves_the_ledger_alone(
        moderator_client, petition, mail):
    update = draft(petition, title="Hearing on Tuesday")
    me = moderator_client.account.email

    response = post(moderator_client, f"{base(petition)}/{update.id}/test")
    delivery.deliver_due()

    assert response.status_code == 303
    [message] = mail.messages
    assert message.to == me
    assert message.subject == "[TEST] Hearing on Tuesday · Save the library"
    assert "TEST: only you got this." in message.part("plain")
    [row] = db.session.scalars(select(OutboxMessage))
    assert (row.kind, row.payload, row.signature_id) == ("petition_update_test", None, None)
    assert ledger(update.id) == [] and reload(update).state == "draft"
    assert audit("update_test_sent")[0].detail == {"petition": petition.slug, "to": me}


def test_send_asks_first_with_the_number_of_recipients(moderator_client, petition):
    update = draft(petition)

    page = moderator_client.get(f"{base(petition)}/{update.id}/send")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "It will go to 2 signers by email now." in text
    assert "Send to 2 signers" in text
    assert reload(update).state == "draft"


def test_pressing_send_twice_sends_each_signer_one_copy(moderator_client, petition, mail,
                                                        task_queue):
    update = draft(petition, title="We won")
    url = f"{base(petition)}/{update.id}/send"

    first = post(moderator_client, url)
    second = post(moderator_client, url)
    task_queue.run_all()

    assert (first.status_code, second.status_code) == (303, 303)
    assert task_queue.sent[0] == ("updates.start", (update.id,))
    assert [name for name, _ in task_queue.sent].count("updates.start") == 1
    assert copies_per_recipient(update_mail(mail)) == {"ana@example.org": 1, "ben@example.org": 1}
    sent = reload(update)
    assert sent.state == "sent" and sent.published_at is not None
    [entry] = audit("update_sent")
    assert entry.detail == {"petition": petition.slug, "title": "We won", "recipients": 2}
    assert send_published(update.id) == 0
    followed = moderator_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already been sent" in followed
    assert "Final counts" in followed


def test_the_list_shows_each_send_s_progress(admin_client, petition, mail):
    sent = draft(petition, title="Sent one")
    publish_and_send(sent)
    draft(petition, title="Still a draft")

    page = admin_client.get(base(petition) + "/").get_data(as_text=True)

    rows = {re.search(r">([^<]+)</a></td>", row).group(1): re.findall(r'class="num">([^<]+)<', row)
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "</a></td>" in row}
    assert rows == {"Sent one": ["2", "0", "2", "0", "0"],
                    "Still a draft": ["2", "—", "—", "—", "—"]}


def test_a_stuck_send_can_be_resumed(admin_client, petition, mail, task_queue):
    update = draft(petition)
    draft_resume = post(admin_client, f"{base(petition)}/{update.id}/resume")
    assert draft_resume.status_code == 303 and audit("update_resumed") == []
    assert task_queue.sent == []
    update.state, update.published_at = "sending", utcnow()
    db.session.commit()

    response = post(admin_client, f"{base(petition)}/{update.id}/resume")
    task_queue.run_all()

    assert response.status_code == 303
    assert task_queue.sent[0] == ("updates.start", (update.id,))
    assert copies_per_recipient(update_mail(mail)) == {"ana@example.org": 1, "ben@example.org": 1}
    assert reload(update).state == "sent"
    assert len(audit("update_resumed")) == 1


def test_milestone_emails_are_switched_on_and_off(moderator_client, petition):
    url = base(petition) + "/milestones"

    assert post(moderator_client, url, milestone_emails="on").status_code == 303
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).milestone_emails is True
    assert post(moderator_client, url, milestone_emails="maybe").status_code == 400
    assert post(moderator_client, url, milestone_emails="off").status_code == 303
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).milestone_emails is False
    assert [e.detail["milestone_emails"] for e in audit("milestone_emails_changed")] == [
        True, False]


def test_posts_without_a_csrf_token_are_refused(admin_client, petition, mail):
    update = draft(petition)
    for url, data in [("/new", {"title": "T", "body": "B"}), (f"/{update.id}/edit", {"title": "T"}),
                      (f"/{update.id}/test", {}), (f"/{update.id}/send", {}),
                      (f"/{update.id}/resume", {}), ("/milestones", {"milestone_emails": "on"})]:
        response = admin_client.post(base(petition) + url, data=data)
        assert response.status_code == 400, url
    assert [u.id for u in updates()] == [update.id] and reload(update).state == "draft"
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert audit("update_created") == [] and audit("update_sent") == []


def test_unknown_petitions_and_other_petitions_updates_are_404(admin_client, petition):
    other = draft(PetitionFactory())

    assert admin_client.get("/admin/petitions/no-such-petition/updates/").status_code == 404
    assert admin_client.get(f"/admin/petitions/{'x' * 300}/updates/").status_code == 404
    assert admin_client.get(f"{base(petition)}/{other.id}").status_code == 404
    assert post(admin_client, f"{base(petition)}/{other.id}/send").status_code == 404
    assert admin_client.get(f"{base(petition)}/99999999").status_code == 404


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_both_roles_may_use_every_update_view_and_none_fails(app, role, admin_client,
                                                             moderator_client, petition,
                                                             task_queue):
    from tests.admin.test_permissions import admin_routes, call, is_admin_only

    client = admin_client if role == "admin" else moderator_client
    update = draft(petition)
    routes = [(endpoint, method, url.replace("no-such-thing", petition.slug)
               .replace("999999", str(update.id)))
              for endpoint, method, url in admin_routes(app) if endpoint.startswith("admin.updates.")]
    assert len(routes) == 11
    for endpoint, method, url in routes:
        assert not is_admin_only(app, endpoint), endpoint
        response = call(client, method, url)
        assert response.status_code < 500, (endpoint, method, response.status_code)
        assert response.status_code not in (403, 404), (endpoint, method, response.status_code)
