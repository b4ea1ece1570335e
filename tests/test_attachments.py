"""attachments.py: message files decided by content, stored privately, sent as inert files."""

from __future__ import annotations

import random
import secrets
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from qosyl.errors import NotFound
from qosyl.render import attachments
from qosyl.render.attachments import AttachmentRejected
from tests import images

DANGEROUS = "Programs, scripts and web pages cannot be sent."
NOT_ACCEPTED = (
    "This kind of file cannot be sent. "
    "Send an image (JPEG, PNG, GIF, WebP), a PDF, a ZIP archive or a plain-text file."
)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield app


@pytest.fixture
def request_ctx(app: Flask):
    """Sending a file builds a response, which belongs to a request."""
    with app.test_request_context():
        yield app


def folder(app: Flask) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / "attachments"


def stored_files(app: Flask) -> list[str]:
    return sorted(path.name for path in folder(app).iterdir()) if folder(app).exists() else []


def store(data: bytes, filename: str = "file.bin") -> attachments.StoredAttachment:
    return attachments.store_attachment(BytesIO(data), filename)


def png_with_exif(width: int = 800, height: int = 600) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (43.0, 15.0, 0.0), 3: "E", 4: (76.0, 57.0, 0.0)}  # GPS
    out = BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG", exif=exif.tobytes())
    return out.getvalue()


def zip_archive() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes/readme.txt", "hello")
    return out.getvalue()


# Storing accepted files


def test_image_is_stored_as_webp_with_a_thumbnail_and_no_exif(ctx):
    data = png_with_exif(800, 600)
    assert b"PhoneMaker" in data  # the test file really carries EXIF

    stored = store(data, "holiday.png")

    assert stored.is_image
    assert stored.content_type == "image/webp"
    assert stored.filename == "holiday.webp"
    assert (stored.width, stored.height) == (800, 600)
    assert stored.thumbnail_name and stored.thumbnail_name != stored.stored_name
    assert stored_files(ctx) == sorted([stored.stored_name, stored.thumbnail_name])
    display_bytes = attachments.attachment_path(stored.stored_name).read_bytes()
    assert stored.size == len(display_bytes)
    with Image.open(BytesIO(display_bytes)) as display:
        assert display.format == "WEBP"
        assert display.size == (800, 600)
        assert not display.getexif()
    thumb_bytes = attachments.attachment_path(stored.thumbnail_name).read_bytes()
    with Image.open(BytesIO(thumb_bytes)) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (320, 240)
    assert b"PhoneMaker" not in display_bytes + thumb_bytes


def test_image_is_decided_by_content_not_by_name(ctx):
    stored = store(images.png(40, 30), "x.exe")
    assert stored.content_type == "image/webp"
    assert stored.filename == "x.webp"


def test_pdf_is_stored_as_it_came(ctx):
    stored = store(PDF, "report.pdf")
    assert stored.content_type == "application/pdf"
    assert stored.filename == "report.pdf"
    assert stored.size == len(PDF)
    assert not stored.is_image
    assert stored.thumbnail_name is None and stored.width is None and stored.height is None
    assert attachments.attachment_path(stored.stored_name).read_bytes() == PDF
    assert stored_files(ctx) == [stored.stored_name]


def test_text_is_stored_as_utf8_plain_text(ctx):
    data = "Сәлем! Meeting at 10:00 → room 3 & bring 2 < 3 notes\n".encode()
    stored = store(data, "notes.txt")
    assert stored.content_type == "text/plain; charset=utf-8"
    assert stored.filename == "notes.txt"
    assert stored.size == len(data)
    assert attachments.attachment_path(stored.stored_name).read_bytes() == data


def test_zip_is_stored(ctx):
    data = zip_archive()
    stored = store(data, "photos.zip")
    assert stored.content_type == "application/zip"
    assert stored.filename == "photos.zip"
    assert attachments.attachment_path(stored.stored_name).read_bytes() == data


def test_each_file_gets_a_new_random_name(ctx):
    first, second = store(PDF, "a.pdf"), store(PDF, "a.pdf")
    assert first.stored_name != second.stored_name
    assert all(len(name) == 32 for name in (first.stored_name, second.stored_name))


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"echo hello\r\ndel C:\\x\r\n", "run.bat", "run.bat.txt"),
        (b"hello", "page.html", "page.html.txt"),
        (b"hello", "README", "README.txt"),
        (b"hello", "../../etc/passwd", "passwd.txt"),
        (b"hello", "data.CSV", "data.CSV"),
        (PDF, "invoice.exe", "invoice.exe.pdf"),
        (zip_archive(), "letter.docx", "letter.docx"),
        (zip_archive(), "tool.jar", "tool.jar.zip"),
    ],
)
def test_download_name_ends_with_an_extension_that_matches_the_content(
    ctx, data, filename, expected
):
    assert store(data, filename).filename == expected


# Refusing files


def assert_refused(app: Flask, data: bytes, filename: str, message: str) -> None:
    with pytest.raises(AttachmentRejected) as refused:
        store(data, filename)
    assert message in str(refused.value)
    assert stored_files(app) == []


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.txt", "The file is empty."),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "setup.pdf", DANGEROUS),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "photo.png", DANGEROUS),
        (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(200), "app.zip", DANGEROUS),
        (b"#!/bin/sh\nrm -rf ~\n", "notes.txt", DANGEROUS),
        (images.HTML_AS_PNG, "notes.txt", DANGEROUS),
        (b"\xef\xbb\xbf\n  <!DOCTYPE HTML><title>x</title>", "notes.txt", DANGEROUS),
        (b"Dear Bob,\nsee below\n<SCRIPT>alert(1)</SCRIPT>", "letter.txt", DANGEROUS),
        (images.SVG, "picture.png", DANGEROUS),
        (b"hi <svg onload=alert(1)>", "hi.txt", DANGEROUS),
        (b"\x00\x01\x02\xff" + random.Random(7).randbytes(2000), "data.txt", NOT_ACCEPTED),
        (b"hello\x00world", "nul.txt", NOT_ACCEPTED),
        (b"caf\xe9 au lait", "latin1.txt", NOT_ACCEPTED),
        (images.TRUNCATED_PNG, "broken.png", "This file is not an image we can read."),
        (images.png_header_only(8000, 6000), "huge.png", "the limit is 25 megapixels"),
    ],
)
def test_refused_files_leave_nothing_behind(ctx, data, filename, message):
    assert_refused(ctx, data, filename, message)


@pytest.mark.app_config(ATTACHMENT_MAX_BYTES=1024)
def test_file_over_the_limit_is_refused_without_reading_it_all(ctx):
    stream = BytesIO(b"a" * 10_000)
    with pytest.raises(AttachmentRejected, match=r"^The file is larger than 1 KB\.$"):
        attachments.store_attachment(stream, "big.txt")
    assert stream.tell() == 1025
    assert stored_files(ctx) == []
    assert store(b"a" * 1024, "exact.txt").size == 1024


def test_default_limit_is_10_mb(app: Flask):
    assert app.config["ATTACHMENT_MAX_BYTES"] == 10 * 1024 * 1024


def test_a_failed_write_removes_the_files_already_written(ctx, monkeypatch):
    real_write = attachments._write_new
    calls = []

    def write_then_fail(data: bytes) -> str:
        calls.append(data)
        if len(calls) == 2:  # the thumbnail, after the display image was written
            raise OSError("disk full")
        return real_write(data)

    monkeypatch.setattr(attachments, "_write_new", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        store(images.png(50, 50), "a.png")
    assert len(calls) == 2
    assert stored_files(ctx) == []


# File names


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\Users\\me\\report final.pdf", "report final.pdf"),
        ("a\x00b\x1fc\x7fd.txt", "abcd.txt"),
        ("invoice\u202etxt.exe", "invoicetxt.exe"),
        ('say "hi"?.txt', "say _hi__.txt"),
        ("  résumé.pdf  ", "résumé.pdf"),
        ("", "file"),
        ("..", "file"),
        ("dir/", "file"),
        ("\x00\x01", "file"),
    ],
)
def test_clean_filename(filename, expected):
    assert attachments.clean_filename(filename) == expected


def test_long_filename_is_cut_to_255_bytes_keeping_the_extension():
    name = attachments.clean_filename("ж" * 300 + ".pdf")
    assert len(name.encode()) <= 255
    assert name.endswith("ж.pdf")


# Paths


@pytest.mark.parametrize(
    "name",
    ["../x", "x", "", "../" + "a" * 32, "A" * 32, "a" * 31, "a" * 33, "a" * 31 + "/", "g" * 32],
)
def test_attachment_path_refuses_anything_but_a_token(ctx, name):
    with pytest.raises(ValueError):
        attachments.attachment_path(name)


def test_attachment_path_is_inside_the_private_folder(ctx):
    name = secrets.token_hex(16)
    path = attachments.attachment_path(name)
    assert path.parent == folder(ctx).absolute()
    assert path.name == name


def test_delete_removes_the_files(ctx):
    stored = store(images.png(50, 50), "a.png")
    other = store(PDF, "b.pdf")
    attachments.delete_attachment_files(stored.stored_name, stored.thumbnail_name, None)
    assert stored_files(ctx) == [other.stored_name]
    attachments.delete_attachment_files(stored.stored_name)  # already gone: no error
    with pytest.raises(ValueError):
        attachments.delete_attachment_files("../" + other.stored_name)
    assert stored_files(ctx) == [other.stored_name]


# Sending


def send(stored: attachments.StoredAttachment, **options):
    name = stored.thumbnail_name if options.get("thumbnail") else stored.stored_name
    response = attachments.send_attachment(name, stored.filename, stored.content_type, **options)
    response.direct_passthrough = False
    return response


def test_send_pdf_is_always_a_download_with_protective_headers(request_ctx):
    stored = store(PDF, "report.pdf")
    for inline in (False, True):
        response = send(stored, inline=inline)
        try:
            assert response.status_code == 200
            assert response.get_data() == PDF
            assert response.mimetype == "application/pdf"
            assert response.headers["Content-Disposition"] == "attachment; filename=report.pdf"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            assert response.headers["Cache-Control"] == "private, max-age=3600"
        finally:
            response.close()


def test_send_text_is_a_download_even_if_asked_inline(request_ctx):
    stored = store(b"hello", "notes.txt")
    response = send(stored, inline=True)
    try:
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.headers["Content-Disposition"].startswith("attachment;")
    finally:
        response.close()


def test_send_image_inline_or_as_download(request_ctx):
    stored = store(images.png(50, 40), "photo.png")
    for options, disposition in (
        ({"inline": True}, "inline; filename=photo.webp"),
        ({}, "attachment; filename=photo.webp"),
        ({"thumbnail": True}, "inline; filename=photo.webp"),
    ):
        response = send(stored, **options)
        try:
            assert response.headers["Content-Disposition"] == disposition
            assert response.mimetype == "image/webp"
            assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            with Image.open(BytesIO(response.get_data())) as image:
                assert image.size == (50, 40)
        finally:
            response.close()


def test_send_non_ascii_name(request_ctx):
    stored = store(PDF, "отчёт.pdf")
    response = send(stored)
    try:
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf" in disposition
    finally:
        response.close()


def test_send_missing_or_bad_names_is_not_found(request_ctx):
    stored = store(PDF, "report.pdf")
    with pytest.raises(NotFound):
        attachments.send_attachment(secrets.token_hex(16), "x.pdf", "application/pdf")
    with pytest.raises(NotFound):
        attachments.send_attachment("../../config.py", "x.pdf", "application/pdf")
    with pytest.raises(NotFound):  # a PDF has no thumbnail
        attachments.send_attachment(
            stored.stored_name, "report.pdf", "application/pdf", thumbnail=True
        )
    attachments.delete_attachment_files(stored.stored_name)
    with pytest.raises(NotFound):
        attachments.send_attachment(stored.stored_name, "report.pdf", "application/pdf")


def test_app_security_headers_do_not_replace_the_attachment_ones(app: Flask):
    """The app's own CSP is only a default: a sent attachment keeps its sandbox."""
    with app.app_context():
        stored = store(b"plain words", "a.txt")

    def download():
        return attachments.send_attachment(stored.stored_name, stored.filename, stored.content_type)

    app.add_url_rule("/test-attachment", "test_attachment", download)
    response = app.test_client().get("/test-attachment")
    try:
        assert response.status_code == 200
        assert response.get_data() == b"plain words"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["X-Frame-Options"] == "DENY"  # the app's other headers remain
        assert response.headers["Cache-Control"] == "private, max-age=3600"
        assert response.headers["Content-Disposition"] == "attachment; filename=a.txt"
    finally:
        response.close()


def test_public_media_route_does_not_serve_attachments(app: Flask, logged_in):
    with app.app_context():
        stored = store(images.png(20, 20), "a.png")
    for kind in ("attachments", "attachment"):
        for name in (stored.stored_name, stored.thumbnail_name):
            assert logged_in.get(f"/media/{kind}/{name}").status_code == 404
