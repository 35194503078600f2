"""flask export counts / flask export signatures: the admin downloads' bytes on stdout."""

from __future__ import annotations

import csv
import getpass
import io
import re

import pytest
from sqlalchemy import select

from petitions.admin.export_commands import CsvRecords
from petitions.admin.models import AuditEntry
from petitions.extensions import db
from petitions.signing.models import Signature
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


# --- progress and summaries on standard error ------------------------------------------------

def test_signatures_export_ends_with_a_summary_on_stderr_and_only_csv_on_stdout(runner, signers):
    result = export(runner, "signatures", "clean-air")

    assert result.exit_code == 0
    assert result.stdout_bytes == SIGNERS_CSV.encode()  # nothing of the summary leaks in
    # Four signers; one comment holds a line break, which is no extra row.
    assert re.fullmatch(r"Exported 4 signatures of petition clean-air in \d+\.\d s\n",
                        result.stderr)


def test_signatures_summary_counts_thousands_with_separators(runner, app):
    target = test_exports.petition("big-one")
    for n in range(1001):
        db.session.add(Signature(
            petition_id=target.id, name=f"Signer {n}", email=f"s{n}@example.org",
            canonical_email=f"s{n}@example.org", postcode="SW1A 1AA", country="GB",
            comment=f'line one\nline "{n}", two' if n % 2 else None, state="confirmed",
            confirmed_at=test_exports.at(1)))
    db.session.commit()

    result = export(runner, "signatures", "big-one")

    assert result.exit_code == 0
    assert result.stdout_bytes.count(b"\n") == 1 + 1001 + 500  # header, rows, comment breaks
    assert result.stderr.startswith("Exported 1,001 signatures of petition big-one in ")


def test_counts_export_ends_with_a_summary_on_stderr(runner, two_petitions):
    csv_result = export(runner, "counts", "--by", "country")
    json_result = export(runner, "counts", "--format", "json", "--petition", "free-buses")

    assert csv_result.stderr == "Exported signature counts by country: 4 rows of CSV\n"
    assert json_result.stderr == (
        "Exported signature counts by petition for free-buses: 1 row of JSON\n")
    assert "Exported" not in csv_result.stdout + json_result.stdout


CSV_RECORDS = (b'name,comment\nA,"one\ntwo"\nB,"say ""hi""\n, ok"\n'
               b'C,plain\nD,"\n\n"\n')


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, len(CSV_RECORDS)])
def test_csv_records_are_counted_whatever_the_chunk_boundaries(size):
    counter = CsvRecords()
    for start in range(0, len(CSV_RECORDS), size):
        counter.feed(CSV_RECORDS[start:start + size])

    assert counter.records == 5 == len(list(csv.reader(io.StringIO(CSV_RECORDS.decode()))))
