"""Uploaded documents never run as the portal: only an allow-list of inert formats is accepted,
checked on the content as well as the name, up to a size limit, and every document is served
with a fixed type, no sniffing and a sandbox policy."""

import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from events.models import Document, Event
from members.models import Team
from tests import factories
from tests.admin_forms import form_data

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PAGE = b"<html><body><script>fetch('/accounts/email/').then(r => r.text())</script></body></html>"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _docx(
    main_type: str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/word/document.xml" ContentType="{main_type}"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _xlsx() -> bytes:
    """A workbook as a real writer (openpyxl, which the exports use) produces it."""
    workbook = openpyxl.Workbook()
    workbook.active.append(["Name", "Organization"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def team_event(organizer):
    """A published event of the organizer's own team, so that its change form is theirs."""
    team = Team.objects.create(name="KL")
    team.members.add(organizer)
    event = factories.event()
    event.team = team
    event.save()
    return event


def _upload_through_admin(client, event: Event, name: str, content: bytes):
    """Post the event's change form with one new document in its inline, as an organizer does."""
    url = reverse("admin:events_event_change", args=[event.pk])
    data = form_data(client.get(url), "event_form")
    data.update({"documents-TOTAL_FORMS": ["1"], "documents-0-title": ["Invitation"]})
    return client.post(url, {**data, "documents-0-file": SimpleUploadedFile(name, content)})


def _document_errors(response) -> list[str]:
    """The messages shown next to the document's file field in the inline."""
    inline = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "documents")
    return inline.formset.forms[0].errors.get("file", [])


def _validated(name: str, content: bytes) -> Document:
    document = Document(event=factories.event(), title="Material", file=ContentFile(content, name=name))
    document.full_clean()
    return document


def _refusal(name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as refused:
        _validated(name, content)
    return " ".join(refused.value.message_dict["file"])


# --- what is accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invite.html", PAGE),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("app.js", b"document.cookie"),
    ],
)
def test_pages_svg_and_scripts_are_refused_next_to_the_file_field(
    client, organizer, team_event, media, name, content
):
    client.force_login(organizer)

    response = _upload_through_admin(client, team_event, name, content)

    assert response.status_code == 200
    assert any("not an accepted type of document" in error for error in _document_errors(response))
    assert "not an accepted type of document" in response.text
    assert not Document.objects.exists()
    assert not any(media.rglob("*.*"))


def test_a_web_page_renamed_to_pdf_is_refused(db):
    message = _refusal("invitation.pdf", PAGE)

    assert "Web pages, SVG images and scripts are not accepted" in message


def test_a_text_file_that_is_a_web_page_is_refused(db):
    message = _refusal("notes.txt", b"\xef\xbb\xbf  <!DOCTYPE html>\n<title>Notes</title><p>Hello")

    assert "Web pages, SVG images and scripts are not accepted" in message


def test_content_must_be_what_the_extension_claims(db):
    assert "is not a real PNG file" in _refusal("photo.png", PDF)
    assert "is not a real Word file" in _refusal("slides.docx", _odt())
    assert "is not a real Word file" in _refusal(
        "macro.docx", _docx("application/vnd.ms-word.document.macroEnabled.main+xml")
    )
    assert "is not a real PDF file" in _refusal("report.pdf", b"GIF89a" + b"\x00" * 20)


def test_text_must_be_utf8(db):
    assert "is not saved as UTF-8" in _refusal("participants.csv", "navn;by\nSøren;Århus\n".encode("cp1252"))


def test_an_oversize_file_is_refused_and_nothing_is_saved(client, organizer, team_event, media):
    client.force_login(organizer)

    with override_settings(DOCUMENT_MAX_UPLOAD_MB=1):
        response = _upload_through_admin(client, team_event, "report.pdf", PDF + b" " * 1024 * 1024)

    assert any("larger than the 1.0\xa0MB accepted" in error for error in _document_errors(response))
    assert not Document.objects.exists()
    assert not any(media.rglob("*.*"))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invitation.pdf", PDF),
        ("map.PNG", _png()),
        ("programme.docx", _docx()),
        ("participants.xlsx", _xlsx()),
        ("minutes.odt", _odt()),
        ("participants.csv", "navn;by\nSøren;Århus\n".encode()),
    ],
)
def test_real_documents_of_accepted_types_are_accepted(db, name, content):
    _validated(name, content)


def test_an_accepted_upload_is_saved_and_linked_from_admin(client, organizer, team_event, media):
    client.force_login(organizer)

    response = _upload_through_admin(client, team_event, "invitation.pdf", PDF)

    assert response.status_code == 302
    document = team_event.documents.get()
    assert document.file.read() == PDF
    change_form = client.get(reverse("admin:events_event_change", args=[team_event.pk])).text
    # Media files are not served: the admin links to the portal's own document view instead.
    assert f'href="{reverse("events:document", args=[document.pk])}"' in change_form
    assert 'accept=".pdf,' in change_form


# --- how documents are served -----------------------------------------------------------------


def _served(client, name: str, content: bytes):
    document = Document.objects.create(
        event=factories.event(), title="Material", file=ContentFile(content, name=name)
    )
    return client.get(reverse("events:document", args=[document.pk]))


def test_a_stored_legacy_page_is_served_as_an_inert_download(db, client, media):
    # Uploaded before the allow-list: written to storage without validation.
    response = _served(client, "invite.html", PAGE)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


def test_a_pdf_is_shown_inline_but_sandboxed(db, client, media):
    response = _served(client, "slides.pdf", PDF)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


def test_text_is_downloaded_as_utf8_whatever_it_holds(db, client, media):
    response = _served(client, "notes.txt", b"plain notes")

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "sandbox"
