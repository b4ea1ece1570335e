"""Web links people put on their profile, checked as a browser will read them.

Python's urlsplit and the browser disagree on exactly the links an attacker
writes: for http(s) a browser (WHATWG URL standard) ends the host at a "\\", so
"https://evil.example\\@github.com/x" goes to evil.example while urlsplit says
github.com. It also drops tabs and newlines, maps full-width letters and
percent-decodes the host. Rather than follow every rule, a link here may hold
none of what those rules act on (backslashes, spaces, control characters, a user
name or password, a "%" in the host), so the remaining text means the same to
both; the host is then compared in its ASCII (punycode) form, so "gіthub.com"
with a Cyrillic "і" is not github.com.

One function decides, so the profile form and any other way in give the same
message for the same link.
"""

from __future__ import annotations

import re
import unicodedata

import idna

MAX_LENGTH = 255
DEFAULT_PORTS = {"http": "80", "https": "443"}

# A scheme as browsers read one. "github.com:443/x" has a dot in it and
# "localhost:8080" digits after the colon: those are hosts with no scheme.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?!\d)")
_ASCII_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
# The last label decides whether a browser reads the host as an IPv4 address
# ("2130706433", "0x7f.1"): a top-level domain starts with a letter.
_TOP_LEVEL = re.compile(r"[a-z][a-z0-9-]*")


class LinkError(ValueError):
    """A link that cannot be saved; the message is for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _ascii_host(host: str) -> str | None:
    """The host in lower-case ASCII (punycode), or None if a browser would not accept it."""
    host = host.removesuffix(".")  # "github.com." is github.com
    if not host or "%" in host:
        return None
    try:
        if host.isascii():
            ascii_host = host.lower()
            # A label that claims to be punycode must decode, as browsers check.
            for label in ascii_host.split("."):
                if label.startswith("xn--"):
                    idna.decode(label)
        else:
            # UTS 46 as browsers apply it: case folding, full-width forms, then punycode.
            ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    labels = ascii_host.split(".")
    if len(labels) < 2 or len(ascii_host) > 253:
        return None
    if not all(len(label) <= 63 and _ASCII_LABEL.fullmatch(label) for label in labels):
        return None
    if not _TOP_LEVEL.fullmatch(labels[-1]):
        return None
    return ascii_host


def normalise_link(text: str | None, *, label: str = "web", hosts: tuple[str, ...] = ()) -> str:
    """The link as it will be stored, or "" for none; raises LinkError if it cannot be.

    `hosts`, when given, are the sites the link must point to (subdomains count).
    The stored form has a lower-case scheme, the host in punycode and no default
    port; "example.com/x" gets "https://" in front.
    """
    example = f"https://{hosts[0]}/yourname" if hosts else "https://example.com"
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > MAX_LENGTH:
        raise LinkError(f"Use at most {MAX_LENGTH} characters.")
    if any(unicodedata.category(c)[0] in "CZ" for c in text):
        raise LinkError("Remove the spaces and invisible characters from the address.")
    if "\\" in text:
        raise LinkError("Use / rather than \\ in a web address.")

    scheme = _SCHEME.match(text)
    if scheme and "." not in scheme.group(1):
        scheme_name, rest = scheme.group(1).lower(), text[scheme.end() :]
        if scheme_name not in DEFAULT_PORTS:
            raise LinkError(f"Enter a web address like {example}.")
    else:
        scheme_name, rest = "https", text
    # Browsers skip any number of slashes after http(s): (a backslash was refused above).
    rest = rest.lstrip("/")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise LinkError("Remove the part before @: a link cannot hold a user name or password.")
    host, colon, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
    if colon and port and not (port.isdigit() and int(port) <= 65535):
        raise LinkError(f"Enter a web address like {example}.")
    ascii_host = _ascii_host(host)
    if ascii_host is None:
        raise LinkError(f"Enter a web address like {example}.")
    if hosts and not any(ascii_host == h or ascii_host.endswith("." + h) for h in hosts):
        raise LinkError(f"Enter a {label} address like {example}.")

    port = (port.lstrip("0") or "0") if port else ""
    netloc = ascii_host if port in ("", DEFAULT_PORTS[scheme_name]) else f"{ascii_host}:{port}"
    link = f"{scheme_name}://{netloc}{tail}"
    if len(link) > MAX_LENGTH:
        raise LinkError(f"Use at most {MAX_LENGTH} characters.")
    return link


def hides_its_host(url: str) -> bool:
    """True if an http(s) URL has a user name, password or backslash before its host.

    Shown as text, "https://github.com@evil.example" and "https://github.com\\@evil.example"
    read as github.com; followed (markdown sends the backslash as %5C, which does
    not end the host) both go to evil.example. Call with the URL as the browser
    gets it, character references decoded.
    """
    scheme = _SCHEME.match(url)
    if not scheme or scheme.group(1).lower() not in DEFAULT_PORTS:
        return False
    rest = url[scheme.end() :].lstrip("/\\")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:end].lower()
    return "@" in authority or "\\" in authority or "%5c" in authority
