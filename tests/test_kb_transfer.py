"""``helpdesk kb import`` / ``export``: Markdown and HTML guides with their files, idempotent,
and a round trip that changes nothing."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from helpdesk.extensions import db as _db
from helpdesk.kb import transfer
from helpdesk.kb.cli import cli
from helpdesk.kb.models import KbArticle, KbAttachment, KbVersion
from helpdesk.kb.transfer import front_matter, parse_front_matter
from tests.factories import at

PDF = b"%PDF-1.4\n% guide\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "guides"
    (root / "lab" / "img").mkdir(parents=True)
    (root / "lab" / "ltsp.md").write_text(
        "---\ntitle: Εγκατάσταση LTSP\ncategory: SW-LTSP\naudience: schools\n"
        "equipment: PC-LTSP-CLIENT, SERVER\nsummary: \"Βήματα: εικόνα, ipxe\"\n---\n"
        "# Εγκατάσταση\n\n![Οθόνη](img/screen.png)\n\nΔείτε [τον οδηγό](ltsp-guide.pdf).\n"
        "[Εξωτερικός](https://ltsp.org) και [ανύπαρκτο](missing.pdf).\n", encoding="utf-8")
    (root / "lab" / "img" / "screen.png").write_bytes(PNG)
    (root / "lab" / "ltsp-guide.pdf").write_bytes(PDF)
    (root / "printers.html").write_text(
        "<html><head><title>Εκτυπωτές δικτύου</title><script>alert(1)</script></head><body>"
        "<h1>Εκτυπωτές</h1><p>Ο <b>εκτυπωτής</b> <img src=x onerror=alert(2)> τυπώνει.</p>"
        "<a href=\"javascript:alert(3)\">κακό</a></body></html>", encoding="utf-8")
    (root / "printers.html.json").write_text(json.dumps(
        {"category": "HW-PRN", "audience": "public", "slug": "ektypotes-diktyou"}),
        encoding="utf-8")
    return root


def _count(model):
    return _db.session.query(model).count()


def test_front_matter_round_trips():
    meta = {"title": "Τίτλος: με άνω-κάτω τελεία", "summary": " κενό ", "audience": "public"}
    parsed, rest = parse_front_matter(front_matter(meta) + "Σώμα\n")
    assert parsed == meta and rest == "Σώμα\n"
    assert parse_front_matter("Χωρίς\n---\n") == ({}, "Χωρίς\n---\n")


def test_import_stores_files_rewrites_links_and_converts_html(db, folder):
    report = transfer.import_folder(folder, now=at(0))
    assert report.created == ["lab/ltsp.md", "printers.html"] and not report.failed
    ltsp = _db.session.query(KbArticle).filter_by(source_key="lab/ltsp.md").one()
    assert ltsp.title == "Εγκατάσταση LTSP" and ltsp.audience == "schools"
    assert ltsp.category.code == "SW-LTSP" and ltsp.summary == "Βήματα: εικόνα, ipxe"
    assert sorted(c.code for c in ltsp.equipment_categories) == ["PC-LTSP-CLIENT", "SERVER"]
    files = {a.filename: a for a in ltsp.attachments}
    assert set(files) == {"screen.png", "ltsp-guide.pdf"}
    assert f"![Οθόνη](/kb/{ltsp.slug}/files/{files['screen.png'].id})" in ltsp.body
    assert f"(/kb/{ltsp.slug}/files/{files['ltsp-guide.pdf'].id})" in ltsp.body
    assert "(https://ltsp.org)" in ltsp.body and "(missing.pdf)" in ltsp.body
    assert _db.session.query(KbVersion).filter_by(article_id=ltsp.id).one().body == ltsp.body
    printers = _db.session.query(KbArticle).filter_by(slug="ektypotes-diktyou").one()
    assert printers.title == "Εκτυπωτές δικτύου" and printers.audience == "public"
    assert "**εκτυπωτής**" in printers.body
    for bad in ("alert(1)", "onerror", "javascript"):
        assert bad not in printers.body


def test_import_is_idempotent_and_updates_what_changed(db, folder):
    transfer.import_folder(folder, now=at(0))
    again = transfer.import_folder(folder, now=at(1))
    assert again.unchanged == ["lab/ltsp.md", "printers.html"] and not again.created
    assert (_count(KbArticle), _count(KbAttachment), _count(KbVersion)) == (2, 2, 2)
    page = folder / "lab" / "ltsp.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Δείτε", "Διαβάστε"),
                    encoding="utf-8")
    third = transfer.import_folder(folder, now=at(2))
    assert third.updated == ["lab/ltsp.md"] and third.unchanged == ["printers.html"]
    ltsp = _db.session.query(KbArticle).filter_by(source_key="lab/ltsp.md").one()
    assert ltsp.version == 2 and "Διαβάστε" in ltsp.body
    assert (_count(KbAttachment), _count(KbVersion)) == (2, 3)  # files reused


def test_a_bad_guide_is_reported_and_the_others_imported(db, folder):
    (folder / "bad.md").write_text("---\ncategory: NOPE\n---\nΚείμενο", encoding="utf-8")
    report = transfer.import_folder(folder, now=at(0))
    assert report.failed == [("bad.md", "unknown category code 'NOPE'")]
    assert len(report.created) == 2


def test_export_then_import_round_trips(db, folder, tmp_path):
    transfer.import_folder(folder, now=at(0))
    out = tmp_path / "export"
    written = transfer.export_folder(out)
    assert "SW-LTSP/ltsp.md" not in written  # named by slug
    ltsp = _db.session.query(KbArticle).filter_by(source_key="lab/ltsp.md").one()
    exported = (out / "SW-LTSP" / f"{ltsp.slug}.md").read_text(encoding="utf-8")
    assert f"![Οθόνη](files/{ltsp.slug}/screen.png)" in exported
    assert (out / "SW-LTSP" / "files" / ltsp.slug / "ltsp-guide.pdf").read_bytes() == PDF
    before = [(a.slug, a.title, a.summary, a.body, a.audience, a.status, a.category_id,
               a.version) for a in _db.session.query(KbArticle).order_by(KbArticle.slug)]
    # into the same library: found by slug, nothing changes
    report = transfer.import_folder(out, now=at(5))
    assert len(report.unchanged) == 2 and not report.created and not report.updated
    after = [(a.slug, a.title, a.summary, a.body, a.audience, a.status, a.category_id,
              a.version) for a in _db.session.query(KbArticle).order_by(KbArticle.slug)]
    assert after == before and _count(KbAttachment) == 2
    # a second export is byte for byte the first
    again = tmp_path / "again"
    assert transfer.export_folder(again) == written
    for name in written:
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_export_into_an_empty_library_recreates_it(db, folder, tmp_path):
    transfer.import_folder(folder, now=at(0))
    out = tmp_path / "export"
    transfer.export_folder(out)
    snapshot = {a.slug: (a.title, a.summary, a.audience, a.category_id,
                         sorted(f.filename for f in a.attachments),
                         sorted(c.code for c in a.equipment_categories))
                for a in _db.session.query(KbArticle)}
    for model in (KbVersion, KbAttachment):
        _db.session.query(model).delete()
    _db.session.execute(transfer.KbArticle.__table__.delete())
    _db.session.flush()
    report = transfer.import_folder(out, now=at(9))
    assert len(report.created) == 2
    _db.session.expire_all()
    assert {a.slug: (a.title, a.summary, a.audience, a.category_id,
                     sorted(f.filename for f in a.attachments),
                     sorted(c.code for c in a.equipment_categories))
            for a in _db.session.query(KbArticle)} == snapshot


def test_the_commands(app, db, folder, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["import", str(folder)])
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, unchanged 0, failed 0" in result.output
    result = runner.invoke(cli, ["import", str(folder)])
    assert "created 0, updated 0, unchanged 2, failed 0" in result.output
    result = runner.invoke(cli, ["export", str(tmp_path / "out")])
    assert result.exit_code == 0 and "wrote 4 files" in result.output
    assert isinstance(runner, CliRunner)
