"""The one place that turns user text into HTML: posts, comments, chat messages.

Markdown (markdown-it-py, CommonMark with raw HTML off, plus tables, strikethrough
and linkify) becomes HTML; fenced code is highlighted by Pygments; #hashtags and
@mentions become links; then bleach keeps only an allowlist of tags, attributes
and URL schemes. The markdown step alone already escapes every raw tag a user
types; bleach is the second wall, so a slip in a renderer rule cannot become XSS.

Choices:
- Single newlines are line breaks (`breaks`), as people expect in posts and chat.
- Headings are shifted to start at <h3> (the page has its <h1>, a post its <h2>)
  and never skip a level, so user content keeps the page outline valid.
- Markdown images do not become <img>: the CSP blocks outside images and they
  would leak the reader's IP address. `![alt](url)` renders as a link to url with
  the alt text as its text (plain text when the image sits inside a link).
- Tags that are not allowed are stripped (their text kept), comments too. With
  raw HTML off, only this module's own renderer can produce tags, so stripping
  only ever removes what a bug let through, and does it quietly.
- Links: http, https and mailto, and paths on this site starting with a single
  "/". External (http/https) links open in a new tab with
  rel="nofollow noopener noreferrer ugc"; links on this site get neither.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import bleach
from bleach.html5lib_shim import Filter
from flask import current_app
from flask import has_app_context
from flask import url_for
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound
from werkzeug.routing import BuildError

from qosyl.links import hides_its_host
from qosyl.urls import safe_local_path

MentionResolver = Callable[[str], str | None]

HASHTAG_ENDPOINT = "posts.hashtag"
HASHTAG_MAX_LENGTH = 64
# Lexing is linear for most lexers but not all; past this size code is shown plain.
MAX_HIGHLIGHTED_CHARS = 20_000
EXTERNAL_REL = "nofollow noopener noreferrer ugc"

# Light and dark Pygments styles for code.css; every token colour passes WCAG AA
# (4.5:1) on the style's own background (tests/test_markup.py checks it).
LIGHT_STYLE = "xcode"
DARK_STYLE = "github-dark"


def _combining_marks() -> str:
    """Combining marks of the Basic Multilingual Plane as a regex class body.

    `\\w` leaves them out, which would cut tags in Devanagari, Thai or decomposed
    Latin ("café" typed as "cafe" + U+0301) short. Scanning the BMP takes ~10 ms.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(start)) + ("-" + re.escape(chr(end)) if end > start else "")
        for start, end in ranges
    )


_TAG_CHAR = rf"[\w{_combining_marks()}]"
# A tag is preceded by none of word character, "&" (entities such as &#39;), "/"
# (URL fragments) or "#"; it holds at least one letter, so "#123" and "C#" are not
# tags. A mention is not preceded by a word character, ".", "/" or "@" (e-mail
# addresses). Neither may run on into more name characters.
_TAGS_AND_MENTIONS = re.compile(
    rf"(?<![\w&/#])#(?P<tag>(?={_TAG_CHAR}*[^\W\d_]){_TAG_CHAR}{{1,{HASHTAG_MAX_LENGTH}}})"
    rf"(?!{_TAG_CHAR})"
    r"|(?<![\w.@/])@(?P<user>[A-Za-z0-9_]{3,30})(?![A-Za-z0-9_])"
)
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_LANGUAGE = re.compile(r"[a-z0-9+#-]{1,32}")
_LANGUAGE_CLASS = re.compile(r"language-[a-z0-9+#-]{1,32}")
_DIGITS = re.compile(r"[0-9]{1,9}")
_PYGMENTS_SUBTYPE = re.compile(r"(?:-[A-Za-z]+)*")
_PYGMENTS_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "span",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_CLASSES = frozenset({"mention", "hashtag"})


# --- links -------------------------------------------------------------------


def _allowed_url(url: str) -> bool:
    """http, https and mailto URLs, and paths on this site.

    A path must start with exactly one "/": "//host" and "/\\host" reach other hosts,
    and so does "/" + tab + "/host" (see qosyl.urls). A web link may not carry a
    user name or a backslash before its host: its text would name another site
    than the one it goes to (see qosyl.links).
    Anything else relative ("page.html", "#frag") is refused: user content has no
    base to be relative to.
    """
    # bleach hands attribute values over with their character references as
    # written; the browser decodes them ("/&#9;/host" is "/" + tab + "/host").
    url = html.unescape(url).strip()
    scheme = _SCHEME.match(url)
    if scheme:
        return scheme.group(1).lower() in ALLOWED_PROTOCOLS and not hides_its_host(url)
    return safe_local_path(url) is not None


def _is_external(url: str) -> bool:
    # "https:host" (no slashes) is a web link too, for browsers.
    scheme = _SCHEME.match(html.unescape(url).strip())
    return scheme is not None and scheme.group(1).lower() in ("http", "https")


def _hashtag_url(tag: str) -> str:
    # posts.hashtag may not be registered (yet, or in a small test app), and a plain Flask
    # app cannot build URLs outside a request: the path is fixed by convention, so fall back
    # to it rather than fail the whole render.
    if has_app_context() and HASHTAG_ENDPOINT in current_app.view_functions:
        try:
            return url_for(HASHTAG_ENDPOINT, name=tag, _external=False)
        except (BuildError, RuntimeError):
            pass
    return "/tags/" + quote(tag, safe="")


def normalise_tag(tag: str) -> str:
    """The stored form of a tag: NFC (one spelling per accented letter), lower case."""
    return unicodedata.normalize("NFC", tag).lower()


# --- markdown-it rules ---------------------------------------------------------


def _alt_text(tokens: list[Token] | None) -> str:
    parts: list[str] = []
    for token in tokens or ():
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.children:
            parts.append(_alt_text(token.children))
    return "".join(parts)


def _images_to_links(state: StateCore) -> None:
    """Replace each image by a link to its URL, or by its alt text inside a link."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if not any(child.type == "image" for child in block.children):
            continue
        children: list[Token] = []
        link_depth = 0
        for token in block.children:
            if token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth -= 1
            if token.type != "image":
                children.append(token)
                continue
            src = str(token.attrGet("src") or "")
            alt = _alt_text(token.children) or src
            text = Token("text", "", 0, content=alt, level=token.level + 1)
            if link_depth or not src:
                text.level = token.level
                children.append(text)
                continue
            attrs: dict[str, str | int | float] = {"href": src}
            title = token.attrGet("title")
            if title:
                attrs["title"] = title
            children.append(Token("link_open", "a", 1, attrs=attrs, level=token.level))
            children.append(text)
            children.append(Token("link_close", "a", -1, level=token.level))
        block.children = children


def _tags_and_mentions(state: StateCore) -> None:
    """Find #tags and @mentions in text tokens and, when rendering, link them.

    Runs on inline tokens, so code spans, fences and link text are never looked at.
    It runs before text_join: an escaped "\\#" or an entity stays a separate token,
    which gives users a way to write "#word" that is not a tag.
    """
    env = state.env
    found_tags: list[str] = env.setdefault("hashtags", [])
    found_users: list[str] = env.setdefault("mentions", [])
    seen_users = {name.lower() for name in found_users}
    link = env.get("link", False)
    resolve: MentionResolver | None = env.get("mention_url")
    resolved: dict[str, str | None] = env.setdefault("resolved", {})

    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if "#" not in block.content and "@" not in block.content:
            continue
        children: list[Token] = []
        link_depth = 0
        before = ""  # the character just before the current token, for the lookbehinds
        for token in block.children:
            if token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth -= 1
            if token.type != "text" or link_depth:
                children.append(token)
                before = token.content[-1:] if token.type == "text_special" else ""
                if token.type == "softbreak":
                    before = "\n"
                continue
            content = token.content
            subject = before + content
            position = len(before)
            for match in _TAGS_AND_MENTIONS.finditer(subject, len(before)):
                href: str | None = None
                if match.group("tag"):
                    tag = normalise_tag(match.group("tag"))
                    if tag not in found_tags:
                        found_tags.append(tag)
                    if link:
                        href, css_class = _hashtag_url(tag), "hashtag"
                else:
                    name = match.group("user")
                    if name.lower() not in seen_users:
                        seen_users.add(name.lower())
                        found_users.append(name)
                    if link and resolve is not None:
                        key = name.lower()
                        if key not in resolved:
                            resolved[key] = resolve(name)
                        href, css_class = resolved[key], "mention"
                if href is None:
                    continue
                if match.start() > position:
                    children.append(_text(subject[position : match.start()], token.level))
                attrs: dict[str, str | int | float] = {"href": href, "class": css_class}
                children.append(Token("link_open", "a", 1, attrs=attrs, level=token.level))
                children.append(_text(match.group(0), token.level + 1))
                children.append(Token("link_close", "a", -1, level=token.level))
                position = match.end()
            if position == len(before):
                children.append(token)
            elif position < len(subject):
                children.append(_text(subject[position:], token.level))
            before = content[-1:]
        block.children = children


def _text(content: str, level: int) -> Token:
    return Token("text", "", 0, content=content, level=level)


def _outline(state: StateCore) -> None:
    """Headings start at h3 and never skip a level; table alignment without style."""
    previous = 2
    for index, token in enumerate(state.tokens):
        if token.type == "heading_open":
            wanted = min(int(token.tag[1]) + 2, 6)
            level = min(wanted, previous + 1)
            previous = level
            token.tag = f"h{level}"
            closing = index + 2  # heading_open, inline, heading_close
            state.tokens[closing].tag = token.tag
        elif token.type in ("th_open", "td_open") and token.attrs:
            style = str(token.attrs.get("style", ""))
            token.attrs = {}
            align = style.removeprefix("text-align:")
            if align in ("left", "center", "right"):
                token.attrs["align"] = align


# --- code -----------------------------------------------------------------------

_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=128)
def _lexer(name: str) -> Lexer | None:
    # Only by name: guessing from content is slow and wrong on short snippets.
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


def _render_fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    words = token.info.split(maxsplit=1)
    name = words[0].lower() if words else ""
    code = token.content
    class_attr = ""
    lexer = None
    if _LANGUAGE.fullmatch(name):
        class_attr = f' class="language-{name}"'
        if len(code) <= MAX_HIGHLIGHTED_CHARS:
            lexer = _lexer(name)
    body = highlight(code, lexer, _FORMATTER) if lexer else escapeHtml(code)
    return f'<pre class="code" tabindex="0"><code{class_attr}>{body}</code></pre>\n'


def _render_code_block(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return f'<pre class="code" tabindex="0"><code>{escapeHtml(tokens[idx].content)}</code></pre>\n'


def _new_markdown() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark", {"html": False, "linkify": True, "typographer": False, "breaks": True}
    )
    md.enable(["table", "strikethrough", "linkify"])
    md.validateLink = _allowed_url  # type: ignore[method-assign]
    md.core.ruler.before("linkify", "qosyl_images", _images_to_links)
    md.core.ruler.before("text_join", "qosyl_tags", _tags_and_mentions)
    md.core.ruler.push("qosyl_outline", _outline)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    return md


_MARKDOWN = _new_markdown()


# --- sanitising -------------------------------------------------------------------


def _pygments_class(value: str) -> bool:
    classes = value.split()
    return bool(classes) and all(
        name.partition("-")[0] in _PYGMENTS_CLASSES
        and _PYGMENTS_SUBTYPE.fullmatch(name[len(name.partition("-")[0]) :]) is not None
        for name in classes
    )


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        if name == "href":
            return _allowed_url(value)
        # rel and target are set by _LinkAttributes, never taken from the input.
        return name == "title" or (name == "class" and value in LINK_CLASSES)
    if tag == "span":
        return name == "class" and _pygments_class(value)
    if tag == "code":
        return name == "class" and _LANGUAGE_CLASS.fullmatch(value) is not None
    if tag == "pre":
        # A code block scrolls sideways: tabindex="0" lets keyboards scroll it too.
        return (name == "class" and value == "code") or (name == "tabindex" and value == "0")
    if tag in ("th", "td"):
        return name == "align" and value in ("left", "center", "right")
    if tag == "ol":
        return name == "start" and _DIGITS.fullmatch(value) is not None
    return False


class _LinkAttributes(Filter):
    """External links open in a new tab, tell search engines the link is the user's,
    and give the target page no handle on ours; links on this site get neither."""

    def __iter__(self) -> Iterator[dict]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attrs = {
                    key: value
                    for key, value in token["data"].items()
                    if key not in ((None, "rel"), (None, "target"))
                }
                if _is_external(attrs.get((None, "href"), "")):
                    attrs[(None, "rel")] = EXTERNAL_REL
                    attrs[(None, "target")] = "_blank"
                token["data"] = attrs
            yield token


def _new_cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[_LinkAttributes],
    )


# A Cleaner's parser keeps state while it works, so two threads must not share one.
# A pool hands each caller its own; list.pop/append are atomic, and under eventlet
# a render never yields, so the pool stays as small as the real concurrency.
_CLEANERS: list[bleach.Cleaner] = [_new_cleaner()]


def _clean(html: str) -> str:
    try:
        cleaner = _CLEANERS.pop()
    except IndexError:
        cleaner = _new_cleaner()
    try:
        return cleaner.clean(html)
    finally:
        _CLEANERS.append(cleaner)


# --- public API ---------------------------------------------------------------------


def render(text: str, *, mention_url: MentionResolver | None = None) -> Markup:
    """User markdown -> safe HTML.

    Hashtags link to url_for("posts.hashtag", name=tag) (lower-cased tag);
    @mentions link to mention_url(username) when it returns a URL, and stay plain
    text otherwise. mention_url should return a path ("/u/name"): an absolute URL
    is treated as external. Needs an app context only for url_for.
    """
    env: dict[str, Any] = {"link": True, "mention_url": mention_url}
    html = _MARKDOWN.render(text, env)
    return Markup(_clean(html))


@lru_cache(maxsize=64)
def _extract(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # Cached: saving a post asks for both lists of the same text, one parse serves both.
    env: dict[str, Any] = {"link": False}
    _MARKDOWN.parse(text, env)
    return tuple(env["hashtags"]), tuple(env["mentions"])


def hashtags(text: str) -> list[str]:
    """Lower-cased tags of the text in order of first appearance, without duplicates,
    ignoring those inside code spans, fenced/indented code blocks and links."""
    return list(_extract(text)[0])


def mentions(text: str) -> list[str]:
    """Usernames mentioned (as written, without @), first appearance order, unique
    case-insensitively, ignoring code and links."""
    return list(_extract(text)[1])


def _token_text(tokens: list[Token]) -> Iterator[str]:
    for token in tokens:
        if token.children:
            yield from _token_text(token.children)
        elif token.type in ("text", "code_inline"):
            yield token.content
        elif token.type in ("fence", "code_block"):
            yield " " + token.content + " "
        elif token.type in ("softbreak", "hardbreak") or token.nesting == -1 and token.block:
            yield " "


@lru_cache(maxsize=256)
def plain_text(text: str) -> str:
    """User markdown -> its words on one line, without markup: for excerpts that quote
    a post or message in a notification, a toast or a mail subject. Not HTML: escape it
    like any text."""
    env: dict[str, Any] = {"link": False}
    words = "".join(_token_text(_MARKDOWN.parse(text, env)))
    return " ".join(words.split())


def code_css() -> str:
    """The content of static/css/code.css: Pygments colours for `.code` blocks.

    Only the token and background rules are taken: get_style_defs() would also
    emit unscoped `pre { line-height }` and line-number rules that would restyle
    every <pre> of the site.
    """
    light = HtmlFormatter(style=LIGHT_STYLE)
    dark = HtmlFormatter(style=DARK_STYLE)
    light_rules = [*light.get_background_style_defs(".code"), *light.get_token_style_defs(".code")]
    dark_rules = [*dark.get_background_style_defs(".code"), *dark.get_token_style_defs(".code")]
    # A class coloured only in the light style would keep its light colour in dark mode.
    dark_selectors = {rule.split("{", 1)[0].strip() for rule in dark_rules}
    resets = [
        f"{selector} {{ color: inherit; background-color: transparent }}"
        for selector in (rule.split("{", 1)[0].strip() for rule in light_rules)
        if selector.startswith(".code .") and selector not in dark_selectors
    ]
    lines = [
        "/* Syntax colours for code blocks rendered by qosyl/markup.py.",
        "   Generated by qosyl.markup.code_css(); do not edit by hand:",
        "   .venv/bin/python -c 'from qosyl.markup import code_css; print(code_css(), end=\"\")'"
        " > qosyl/static/css/code.css */",
        "",
        f"/* Light: Pygments style {LIGHT_STYLE!r}. */",
        *light_rules,
        "",
        ".code { color: #000000; }",
        "pre.code {",
        "  margin: 0 0 .75em;",
        "  padding: .75em 1em;",
        "  border: 1px solid var(--border);",
        "  border-radius: 8px;",
        "  overflow-x: auto;",
        "  font: .875rem/1.45 var(--mono);",
        "  tab-size: 4;",
        "}",
        "pre.code code { font: inherit; background: none; padding: 0; }",
        "",
        f"/* Dark: Pygments style {DARK_STYLE!r}. */",
        "@media (prefers-color-scheme: dark) {",
        *(f"  {rule}" for rule in [*dark_rules, *resets]),
        "}",
    ]
    return "\n".join(lines) + "\n"
