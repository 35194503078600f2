"""flask export counts / flask export signatures: the admin downloads' bytes on stdout."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import select

from petitions.admin.models import AuditEntry
from petitions.extensions import db
from tests.admin import test_exports
from tests.admin.test_exports import SIGNERS_CSV

# The same data as the admin download tests.
signers = test_exports.signers
two_petitions = test_exports.two_petitions


def export(runner, *args):
    return runner.invoke(args=["export", *args], catch_exceptions=False)


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("by", ["petition", "day", "country", "postcode"])
def test_counts_on_stdout_match_the_admin_download(runner, admin_client, two_petitions, by, fmt):
    for scope in ([], ["--petition", "free-buses"]):
        result = export(runner, "counts", "--format", fmt, "--by", by, *scope)
        query = f"?by={by}" + ("&petition=free-buses" if scope else "")
        download = admin_client.get(f"/admin/exports/counts.{fmt}{query}")

        assert result.exit_code == 0, result.output
        assert download.status_code == 200
        assert result.stdout_bytes == download.get_data()


def test_counts_default_to_csv_by_petition(runner, two_petitions):
    result = export(runner, "counts")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "slug,title,confirmed,pending,invalidated,goal,state,created,closes",
        "'=parks,'-More parks,1,0,2,100,closed,2026-03-01T12:00:00Z,",
        "free-buses,Free Buses,5,2,1,500,open,2026-03-01T12:00:00Z,2026-09-30T23:59:59Z",
        "zero-signatures,Zero Signatures,0,0,0,10,draft,2026-03-01T12:00:00Z,2026-09-30T23:59:59Z",
    ]


def test_counts_for_an_unknown_petition_fail_with_a_message(runner):
    result = export(runner, "counts", "--petition", "no-such-petition")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no petition has the slug 'no-such-petition'" in result.stderr


def test_counts_refuse_an_unknown_grouping_or_format(runner):
    assert export(runner, "counts", "--by", "weekday").exit_code == 2
    assert export(runner, "counts", "--format", "xlsx").exit_code == 2


@pytest.mark.parametrize("bom", [False, True])
def test_signatures_on_stdout_match_the_admin_download(runner, admin_client, signers, bom):
    result = export(runner, "signatures", "clean-air", *(["--bom"] if bom else []))
    download = admin_client.get("/admin/exports/clean-air/signatures.csv" + ("?bom=1" if bom else ""))

    assert result.exit_code == 0
    assert result.stdout_bytes == download.get_data()
    assert result.stdout_bytes == (b"\xef\xbb\xbf" if bom else b"") + SIGNERS_CSV.encode()


def test_every_signatures_export_is_audited_with_the_os_user(runner, signers):
    export(runner, "signatures", "clean-air")
    export(runner, "signatures", "clean-air", "--bom")

    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.actor_email, e.target_type, e.target_id, e.detail)
            for e in entries] == [
        ("signers_exported", None, None, "petitions", str(signers.id),
         {"slug": "clean-air", "via": "cli", "bom": bom, "os_user": getpass.getuser()})
        for bom in (False, True)
    ]


def test_signatures_of_an_unknown_petition_fail_without_an_audit_entry(runner):
    result = export(runner, "signatures", "no-such-petition")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no petition has the slug 'no-such-petition'" in result.stderr
    assert db.session.scalars(select(AuditEntry)).all() == []
