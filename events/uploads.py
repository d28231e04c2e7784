"""Which files organizers may upload as documents, and how the portal serves them.

Documents are served from the portal's own origin, so a file that a browser would render as a
page (HTML, SVG, a script) would run with the portal's cookies and its `script-src 'self'`. The
rule is therefore an allow-list of inert formats, checked on the content and not only on the
name: the extension must be on the list and the bytes must be what the extension claims. The
magic bytes of PDF and images are read by `filetype`; what it cannot tell reliably (the members
of Office and OpenDocument ZIP containers, the old Office compound files, plain text) is checked
here. Serving takes the content type from the same list, by extension, never from the file.
"""

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The header of an OLE2 compound file, the container of .doc, .xls and .ppt. filetype knows
# the Word and Excel variants only by bytes at fixed offsets that many writers do not produce.
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Markup a browser (or an old one's sniffer) would take for a page: refused in every file.
_PAGE_MARKUP = re.compile(
    rb"<(!doctype\s+html|html|head|body|script|svg|iframe|object|embed)[\s>/]", re.IGNORECASE
)
_SNIFFED_BYTES = 512
# Control characters have no place in text or CSV; tab, line feed, form feed and CR do.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CHUNK = 64 * 1024
# A container member we read is small; more than this is not a real document's marker file.
_MARKER_LIMIT = 256 * 1024


@dataclass(frozen=True)
class DocumentType:
    kind: str | Promise  # what the organizer would call it, for messages
    content_type: str
    check: str  # how the content is checked: one of the _CHECKS
    # The image types filetype may name (space-separated), the OOXML main part, or the ODF mimetype.
    marker: str = ""
    inline: bool = False  # shown in the browser (PDF, raster images) rather than downloaded


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

ACCEPTED: dict[str, DocumentType] = {
    "pdf": DocumentType("PDF", "application/pdf", "pdf", inline=True),
    "doc": DocumentType("Word", "application/msword", "compound"),
    "docx": DocumentType(
        "Word", _OOXML + "wordprocessingml.document", "ooxml", _OOXML + "wordprocessingml.document.main+xml"
    ),
    "xls": DocumentType("Excel", "application/vnd.ms-excel", "compound"),
    "xlsx": DocumentType(
        "Excel", _OOXML + "spreadsheetml.sheet", "ooxml", _OOXML + "spreadsheetml.sheet.main+xml"
    ),
    "ppt": DocumentType("PowerPoint", "application/vnd.ms-powerpoint", "compound"),
    "pptx": DocumentType(
        "PowerPoint",
        _OOXML + "presentationml.presentation",
        "ooxml",
        _OOXML + "presentationml.presentation.main+xml",
    ),
    "odt": DocumentType(_("OpenDocument text"), _ODF + "text", "opendocument", _ODF + "text"),
    "ods": DocumentType(
        _("OpenDocument spreadsheet"), _ODF + "spreadsheet", "opendocument", _ODF + "spreadsheet"
    ),
    "odp": DocumentType(
        _("OpenDocument presentation"), _ODF + "presentation", "opendocument", _ODF + "presentation"
    ),
    "png": DocumentType("PNG", "image/png", "image", "png apng", inline=True),
    "jpg": DocumentType("JPEG", "image/jpeg", "image", "jpg", inline=True),
    "jpeg": DocumentType("JPEG", "image/jpeg", "image", "jpg", inline=True),
    "gif": DocumentType("GIF", "image/gif", "image", "gif", inline=True),
    "webp": DocumentType("WebP", "image/webp", "image", "webp", inline=True),
    "txt": DocumentType(_("plain text"), "text/plain; charset=utf-8", "text"),
    "csv": DocumentType("CSV", "text/csv; charset=utf-8", "text"),
}
# A file stored before the allow-list, or under a name not on it, is only ever downloaded.
UNLISTED = DocumentType("", "application/octet-stream", "")

ACCEPT_ATTRIBUTE = ",".join(f".{extension}" for extension in ACCEPTED)


def extension_of(name: str) -> str:
    return PurePath(name).suffix.lower().removeprefix(".")


def served_as(name: str) -> DocumentType:
    """How a stored document is served: its type from the allow-list by extension, else unlisted."""
    return ACCEPTED.get(extension_of(name), UNLISTED)


def max_upload_bytes() -> int:
    return settings.DOCUMENT_MAX_UPLOAD_MB * 1024 * 1024


def validate_document_upload(upload: File) -> None:
    """Refuse an upload that is too large, not on the allow-list, or not what its name claims.

    Raises ValidationError with a message for the organizer; reads the file, leaves it rewound."""
    if upload.size > max_upload_bytes():
        raise ValidationError(
            gettext(
                "The file is %(size)s, larger than the %(limit)s accepted. Make it smaller (for "
                "example, compress the pictures in it) or add it as a link."
            ),
            code="too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(max_upload_bytes())},
        )
    extension = extension_of(upload.name or "")
    document_type = ACCEPTED.get(extension)
    if document_type is None:
        raise ValidationError(
            gettext("“%(name)s” is not an accepted type of document. Upload one of: %(accepted)s."),
            code="type_not_accepted",
            params={
                "name": PurePath(upload.name or "").name,
                "accepted": ", ".join(f".{extension}" for extension in ACCEPTED),
            },
        )
    try:
        upload.seek(0)
        head = upload.read(8192)
        if _PAGE_MARKUP.search(head.lstrip(b"\xef\xbb\xbf \t\r\n\f")[:_SNIFFED_BYTES]):
            raise ValidationError(
                gettext(
                    "Web pages, SVG images and scripts are not accepted as documents. "
                    "Save the page as PDF, or add it as a link instead."
                ),
                code="page_markup",
            )
        if not _CHECKS[document_type.check](upload, head, document_type):
            raise ValidationError(
                gettext(
                    "“%(name)s” is not a real %(kind)s file: its content does not match its extension. "
                    "Save it again in that format, or upload it under the right extension."
                ),
                code="content_mismatch",
                params={"name": PurePath(upload.name).name, "kind": document_type.kind},
            )
    finally:
        upload.seek(0)


def _is_pdf(upload: File, head: bytes, document_type: DocumentType) -> bool:
    kind = filetype.guess(head)
    return kind is not None and kind.extension == "pdf"


def _is_image(upload: File, head: bytes, document_type: DocumentType) -> bool:
    kind = filetype.image_match(head)
    return kind is not None and kind.extension in document_type.marker.split()


def _is_compound_file(upload: File, head: bytes, document_type: DocumentType) -> bool:
    return head.startswith(_COMPOUND_FILE)


def _zip_member(upload: File, member: str) -> bytes | None:
    """A small member of a ZIP container, or None when the file is no ZIP or lacks it."""
    try:
        with zipfile.ZipFile(upload) as archive:
            info = archive.getinfo(member)
            if info.file_size > _MARKER_LIMIT:
                return None
            with archive.open(info) as opened:
                return opened.read(_MARKER_LIMIT)
    except (zipfile.BadZipFile, KeyError, OSError, NotImplementedError, RuntimeError, EOFError):
        return None


def _is_office_open_xml(upload: File, head: bytes, document_type: DocumentType) -> bool:
    # The package's content types name its main part: a Word document, a workbook, a
    # presentation (macro-enabled variants and templates name another type and are refused).
    if not head.startswith(b"PK\x03\x04"):
        return False
    content_types = _zip_member(upload, "[Content_Types].xml")
    return content_types is not None and document_type.marker.encode() in content_types


def _is_open_document(upload: File, head: bytes, document_type: DocumentType) -> bool:
    # OpenDocument packages carry their type in a `mimetype` member (ODF 1.2, section 3.3).
    if not head.startswith(b"PK\x03\x04"):
        return False
    mimetype = _zip_member(upload, "mimetype")
    return mimetype is not None and mimetype.strip() == document_type.marker.encode()


def _is_text(upload: File, head: bytes, document_type: DocumentType) -> bool:
    # UTF-8 throughout (a BOM is allowed), no control characters, and no binary format in
    # disguise; the response says charset=utf-8, so a legacy encoding would show garbled and
    # is refused with its own message.
    if filetype.guess(head) is not None:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        while chunk := upload.read(_CHUNK):
            if _CONTROL_CHARACTERS.search(decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(
            gettext(
                "“%(name)s” is not saved as UTF-8. Save it again with the encoding UTF-8 "
                "(in Excel: “CSV UTF-8”)."
            ),
            code="not_utf8",
            params={"name": PurePath(upload.name).name},
        ) from None
    return True


_CHECKS = {
    "pdf": _is_pdf,
    "image": _is_image,
    "compound": _is_compound_file,
    "ooxml": _is_office_open_xml,
    "opendocument": _is_open_document,
    "text": _is_text,
}


class DocumentFileWidget(AdminFileWidget):
    """The admin's file input for documents: the "currently" link opens the document through
    the portal's own view (media files are not served), and the picker offers accepted types."""

    def __init__(self, attrs=None):
        super().__init__({"accept": ACCEPT_ATTRIBUTE, **(attrs or {})})

    def format_value(self, value):
        value = super().format_value(value)
        document = getattr(value, "instance", None)
        if value and document is not None and document.pk:
            return _StoredFile(str(value), reverse("events:document", args=[document.pk]))
        return value


@dataclass(frozen=True)
class _StoredFile:
    name: str
    url: str

    def __str__(self) -> str:
        return self.name
