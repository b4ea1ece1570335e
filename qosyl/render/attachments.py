"""Files sent in private messages: checked by content, stored privately, sent safely.

Attachments live under UPLOAD_FOLDER/attachments, which the public media route never
serves; a view must check who may read a message before calling send_attachment().
The type is decided from the bytes, never from the name or the browser's claim.
Images go through media.process_image (metadata dropped, bombs and SVG refused) and
are stored as WebP; PDFs, ZIP archives and plain text are stored as they came;
anything else is refused. Every file is stored under a new random name.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask import Response
from flask import send_file
from PIL import Image

from qosyl.errors import NotFound
from qosyl.render import media

FOLDER = "attachments"
IMAGE_TYPE = "image/webp"
PDF_TYPE = "application/pdf"
ZIP_TYPE = "application/zip"
TEXT_TYPE = "text/plain; charset=utf-8"

ACCEPTED_TEXT = (
    "This kind of file cannot be sent. "
    "Send an image (JPEG, PNG, GIF, WebP), a PDF, a ZIP archive or a plain-text file."
)
DANGEROUS_TEXT = "Programs, scripts and web pages cannot be sent."

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
_PROGRAM_MAGIC = (
    b"MZ",  # Windows executables and DLLs
    b"\x7fELF",  # Linux and other Unix programs
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders, 32 and 64 bit
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (and Java class files)
    b"#!",  # scripts for any interpreter
)
_MARKUP_WORDS = (b"<script", b"<html", b"<svg")
_MARKUP_WINDOW = 4096
_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n\f\v"
_STORED_NAME = re.compile(r"[0-9a-f]{32}")
# Names a download may keep for each type; others get the type's own extension added, so a
# text file saved as "run.bat" or "page.html" cannot be run or opened as a page from disk.
_KEPT_EXTENSIONS = {
    PDF_TYPE: (".pdf",),
    ZIP_TYPE: (".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub"),
    TEXT_TYPE: (".txt", ".md", ".csv", ".log", ".json"),
}
_DEFAULT_EXTENSION = {PDF_TYPE: ".pdf", ZIP_TYPE: ".zip", TEXT_TYPE: ".txt"}
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
_MAX_NAME_BYTES = 255


class AttachmentRejected(ValueError):
    """The file cannot be sent; the message is for the user, shown next to the file field."""


@dataclass(frozen=True)
class StoredAttachment:
    filename: str  # cleaned original name, offered for the download
    content_type: str  # decided from the content
    size: int  # bytes stored (the display image for images)
    stored_name: str  # random name of the stored file
    thumbnail_name: str | None = None  # images only
    width: int | None = None  # images only: the display size
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


# File names


def _limit_bytes(name: str) -> str:
    """At most 255 UTF-8 bytes (what file systems allow), cutting the stem, not the extension."""
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > 16:
        stem, extension = name, ""
    else:
        extension = "." + extension
    room = _MAX_NAME_BYTES - len(extension.encode())
    stem = stem.encode()[:room].decode(errors="ignore")
    return stem + extension


def clean_filename(filename: str) -> str:
    """The name to offer for the download: no folders, no control or direction characters."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    # Category C holds control characters and format ones such as U+202E, which can make
    # "exe.txt" display as "txt.exe".
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = name.strip().strip(".").strip()
    return _limit_bytes(name) or "file"


def _download_name(filename: str, content_type: str) -> str:
    """The cleaned name with an extension that matches what the file really is."""
    name = clean_filename(filename)
    if content_type == IMAGE_TYPE:
        stem = name.rpartition(".")[0] or name
        return _limit_bytes(stem + ".webp")
    if name.lower().endswith(_KEPT_EXTENSIONS[content_type]):
        return name
    return _limit_bytes(name + _DEFAULT_EXTENSION[content_type])


# Deciding the type


def _is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _is_program(data: bytes) -> bool:
    return data.removeprefix(_BOM).startswith(_PROGRAM_MAGIC)


def _looks_like_markup(data: bytes) -> bool:
    """HTML, SVG, XML or script: a browser or viewer could run it, whatever its name."""
    head = data[:_MARKUP_WINDOW].removeprefix(_BOM).lstrip(_BLANK).lower()
    return head.startswith(b"<") or any(word in head for word in _MARKUP_WORDS)


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _content_type(data: bytes) -> str:
    """The type of a file that is not an image, or AttachmentRejected."""
    if data.startswith(b"%PDF-"):
        return PDF_TYPE
    if data.startswith(b"PK\x03\x04"):
        return ZIP_TYPE
    if _looks_like_markup(data):
        raise AttachmentRejected(DANGEROUS_TEXT)
    if _is_plain_text(data):
        return TEXT_TYPE
    raise AttachmentRejected(ACCEPTED_TEXT)


# Storage


def _folder() -> Path:
    # Absolute, so send_file (which reads relative paths from the app's root) and the writes
    # (relative to the working directory) agree on a relative UPLOAD_FOLDER.
    return Path(current_app.config["UPLOAD_FOLDER"]).absolute() / FOLDER


def attachment_path(stored_name: str) -> Path:
    """Where a stored file lives. Only our random names pass, so no path can leave the folder."""
    if not isinstance(stored_name, str) or not _STORED_NAME.fullmatch(stored_name):
        raise ValueError("not a stored attachment name")
    return _folder() / stored_name


def _write_new(data: bytes) -> str:
    """Write under a new random name; "x" mode never overwrites another file."""
    stored_name = secrets.token_hex(16)
    path = attachment_path(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("xb") as file:
            file.write(data)
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written file left behind
        raise
    return stored_name


def _write_all(*contents: bytes) -> list[str]:
    """Write every file or none: a failure half-way removes what was written."""
    written: list[str] = []
    try:
        for data in contents:
            written.append(_write_new(data))
    except BaseException:
        delete_attachment_files(*written)
        raise
    return written


def delete_attachment_files(*stored_names: str | None) -> None:
    """Remove stored files; missing ones and empty names are skipped, so it is safe to repeat."""
    for stored_name in stored_names:
        if stored_name:
            attachment_path(stored_name).unlink(missing_ok=True)


def _read_limited(stream: BinaryIO) -> bytes:
    """Read one byte past the limit at most, so a huge upload is never held in memory."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    data = stream.read(limit + 1)
    if not data:
        raise AttachmentRejected("The file is empty.")
    if len(data) > limit:
        raise AttachmentRejected(f"The file is larger than {media.limit_text(limit)}.")
    return data


def _store_image(data: bytes, filename: str) -> StoredAttachment:
    try:
        processed = media.process_image(BytesIO(data), media.ATTACHMENT_IMAGE)
    except media.ImageRejected as error:
        raise AttachmentRejected(str(error)) from None
    display, thumb = processed.variants["display"], processed.variants["thumb"]
    # Our own WebP output, not the user's file: only its header is read, for the size.
    with Image.open(BytesIO(display), formats=("WEBP",)) as image:
        width, height = image.size
    stored_name, thumbnail_name = _write_all(display, thumb)
    return StoredAttachment(
        filename=_download_name(filename, IMAGE_TYPE),
        content_type=IMAGE_TYPE,
        size=len(display),
        stored_name=stored_name,
        thumbnail_name=thumbnail_name,
        width=width,
        height=height,
    )


def store_attachment(stream: BinaryIO, filename: str) -> StoredAttachment:
    """Check an upload and store it. Raises AttachmentRejected with a message for the user.

    Nothing is written unless the file is accepted.
    """
    data = _read_limited(stream)
    if _is_program(data):
        raise AttachmentRejected(DANGEROUS_TEXT)
    if _is_image(data):
        return _store_image(data, filename)
    content_type = _content_type(data)
    (stored_name,) = _write_all(data)
    return StoredAttachment(
        filename=_download_name(filename, content_type),
        content_type=content_type,
        size=len(data),
        stored_name=stored_name,
    )


# Sending


def send_attachment(
    stored_name: str,
    filename: str,
    content_type: str,
    *,
    thumbnail: bool = False,
    inline: bool = False,
) -> Response:
    """Send a stored file so the browser cannot run it. 404 if it is not there.

    Only images may be shown inline; everything else is always a download. For a thumbnail
    pass the attachment's thumbnail_name with thumbnail=True: it is always shown inline.
    The caller must have checked that the viewer may read the message.
    """
    is_image = content_type.startswith("image/")
    if thumbnail and not is_image:
        raise NotFound()
    try:
        path = attachment_path(stored_name)
    except ValueError:
        raise NotFound() from None
    if not path.is_file():
        raise NotFound()
    response = send_file(
        path,
        mimetype=content_type.partition(";")[0].strip(),
        as_attachment=not (is_image and (inline or thumbnail)),
        download_name=filename,
        max_age=3600,
    )
    # Exactly the stored type: Werkzeug would add a second charset to "text/plain; charset=...".
    response.headers["Content-Type"] = content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def send_attachment_view(attachment, view: str | None) -> Response:
    """An Attachment as its `?view=` asks: "thumb" (its thumbnail, for images), "inline"
    (an image shown in the page) or a download. The caller checked the viewer may read it."""
    thumbnail = view == "thumb" and bool(attachment.thumbnail_name)
    return send_attachment(
        attachment.thumbnail_name if thumbnail else attachment.stored_name,
        attachment.filename,
        attachment.content_type,
        thumbnail=view == "thumb",
        inline=view == "inline",
    )
