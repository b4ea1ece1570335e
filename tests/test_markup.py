"""qosyl.render.markup: markdown, code, hashtags and mentions, and the sanitizer's walls."""

from __future__ import annotations

import base64
import binascii
import html
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote
from urllib.parse import unquote

import pytest
from flask import Blueprint
from flask import Flask
from markupsafe import Markup

from qosyl import create_app
from qosyl.render import markup
from tests.xss_corpus import VECTORS

CODE_CSS = Path(markup.__file__).parent.parent / "static" / "css" / "code.css"
EXTERNAL = 'rel="nofollow noopener noreferrer ugc" target="_blank"'

# What the output may contain, stated here independently of markup.py.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "class", "rel", "target"},
    "span": {"class"},
    "code": {"class"},
    "pre": {"class", "tabindex"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    **dict.fromkeys(
        "p br strong em del s ul li blockquote h3 h4 h5 h6 hr table thead tbody tr".split(), set()
    ),
}
VOID = {"br", "hr"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


@pytest.fixture(scope="module")
def app() -> Flask:
    # No database needed: render only uses the app for url_for.
    return create_app("testing")


@pytest.fixture
def request_ctx(app):
    with app.app_context():
        yield


def render(text: str, **kwargs) -> str:
    return str(markup.render(text, **kwargs))


class Elements(HTMLParser):
    """Start tags with their (entity-decoded) attributes; checks nesting as it goes."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"unbalanced </{tag}>, open: {self.open}"
        self.open.pop()


def _scheme_text(value: str) -> str:
    # How a browser reads a URL's scheme: control characters and spaces dropped.
    return re.sub(r"[\x00-\x20\x7f]", "", value).lower()


def assert_inert(output: str) -> None:
    assert "<script" not in output.lower()
    parsed = Elements(output)
    assert parsed.open == [], f"unclosed {parsed.open}"
    for tag, attrs in parsed.elements:
        assert tag in ALLOWED_ATTRIBUTES, f"<{tag}> in {output}"
        for name, value in attrs.items():
            assert not name.startswith(("on", "hx-", "data-")), f"{name} in {output}"
            assert name in ALLOWED_ATTRIBUTES[tag], f"<{tag} {name}> in {output}"
            if name in ("href", "src"):
                assert value is not None
                assert not _scheme_text(value).startswith(BAD_SCHEMES), output
                assert re.match(r"(https?:|mailto:|/(?![/\\]))", value, re.I), output


# --- markdown ---------------------------------------------------------------------------


def test_returns_markup():
    assert isinstance(markup.render("hi"), Markup)
    assert markup.render("") == Markup("")


def test_paragraphs_and_line_breaks():
    assert render("one\ntwo\n\nthree") == "<p>one<br>\ntwo</p>\n<p>three</p>\n"


def test_headings_start_at_h3_and_never_skip_a_level():
    assert render("# Title") == "<h3>Title</h3>\n"
    assert render("## Part") == "<h3>Part</h3>\n"
    out = render("# A\n## B\n###### C\n# D\n### E")
    assert re.findall(r"<(h\d)>", out) == ["h3", "h4", "h5", "h3", "h4"]
    assert render("Setext\n===") == "<h3>Setext</h3>\n"
    assert "<h" not in render("####### seven hashes is text")


def test_lists():
    assert render("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
    assert render("3. c\n4. d").startswith('<ol start="3">\n<li>c</li>')
    assert render("1. a").startswith("<ol>\n<li>a</li>")


def test_emphasis_strikethrough_quote_rule():
    assert render("*a* **b** ~~c~~") == "<p><em>a</em> <strong>b</strong> <s>c</s></p>\n"
    assert render("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
    assert render("a\n\n---\n\nb") == "<p>a</p>\n<hr>\n<p>b</p>\n"


def test_tables_align_without_style():
    out = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    assert '<th align="left">a</th>' in out
    assert '<th align="center">b</th>' in out
    assert '<td align="right">3</td>' in out
    assert "style" not in out
    assert_inert(out)


def test_raw_html_is_shown_as_text():
    out = render('<b onclick="x">bold</b>')
    assert out == "<p>&lt;b onclick=&quot;x&quot;&gt;bold&lt;/b&gt;</p>\n"


def test_images_become_links_to_the_picture():
    out = render('![A *cat*](https://example.com/cat.png "Title")')
    assert "<img" not in out
    assert out == (
        f'<p><a href="https://example.com/cat.png" title="Title" {EXTERNAL}>A cat</a></p>\n'
    )
    # Inside a link the image can only be text: links do not nest.
    out = render("[![cat](https://example.com/cat.png)](https://example.com/)")
    assert out == f'<p><a href="https://example.com/" {EXTERNAL}>cat</a></p>\n'
    assert render("![](https://example.com/a.png)").count("https://example.com/a.png") == 2


# --- links ----------------------------------------------------------------------------------


def test_external_links_open_in_a_new_tab_without_referrer():
    out = render("[site](https://example.com/page)")
    assert out == f'<p><a href="https://example.com/page" {EXTERNAL}>site</a></p>\n'
    assert EXTERNAL in render("<http://example.com>")


@pytest.mark.parametrize(
    "text",
    [
        # Shown as github.com (a browser ends the host at "\\"), followed to evil.example:
        # the href carries the backslash as %5C, which does not end the host.
        "https://github.com\\@evil.example/x",
        "<https://github.com\\@evil.example/x>",
        "https://github.com%5C@evil.example/x",
        # A user name that reads as the host.
        "https://github.com@evil.example/x",
        "[docs](https://github.com:443@evil.example/)",
    ],
)
def test_a_link_whose_host_is_disguised_does_not_go_there(text):
    out = render(text)
    # What stays a link (at most "https://github.com") goes where its text says.
    assert not any("evil.example" in href for href in re.findall(r'href="([^"]*)"', out))
    assert "evil.example" in out


@pytest.mark.parametrize("destination", ["https:evil.example", "HTTPS:/evil.example/x"])
def test_a_web_link_without_two_slashes_is_still_external(destination):
    assert EXTERNAL in render(f"[x]({destination})")


def test_links_on_this_site_and_mail_get_no_target():
    assert render("[me](/u/alice)") == '<p><a href="/u/alice">me</a></p>\n'
    assert render("<mailto:a@example.com>") == (
        '<p><a href="mailto:a@example.com">mailto:a@example.com</a></p>\n'
    )


@pytest.mark.parametrize(
    "destination",
    ["javascript:alert(1)", "//evil.example/x", "page.html", "#frag", "ftp://example.com/"],
)
def test_other_link_destinations_stay_text(destination):
    out = render(f"[x]({destination})")
    assert f'href="{destination}"' not in out
    assert out.startswith("<p>[x](")


def test_linkify():
    out = render("see www.example.com/path and https://example.org/a?b=1#c, or mail x@example.com")
    assert f'<a href="http://www.example.com/path" {EXTERNAL}>www.example.com/path</a>' in out
    assert f'<a href="https://example.org/a?b=1#c" {EXTERNAL}>' in out
    assert '<a href="mailto:x@example.com">x@example.com</a>' in out


# --- code -----------------------------------------------------------------------------------


def test_fenced_code_is_highlighted():
    out = render("```python\ndef f(): pass\n```")
    assert out.startswith('<pre class="code" tabindex="0"><code class="language-python">')
    assert '<span class="k">def</span>' in out
    assert '<span class="nf">f</span>' in out
    assert out.endswith("</code></pre>\n")
    assert_inert(out)


def test_language_name_is_case_insensitive_and_may_have_symbols():
    assert 'class="language-python"' in render("```Python\nx = 1\n```")
    out = render("```c#\nclass A {}\n```")
    assert 'class="language-c#"' in out
    assert '<span class="k">class</span>' in out
    assert 'class="language-c++"' in render("```c++\nint x;\n```")


def test_unknown_language_is_plain_escaped_text():
    out = render("```nosuchlanguage\n<b>x</b> & y\n```")
    assert out == (
        '<pre class="code" tabindex="0"><code class="language-nosuchlanguage">'
        "&lt;b&gt;x&lt;/b&gt; &amp; y\n</code></pre>\n"
    )


def test_no_language_is_never_guessed():
    out = render("```\ndef f(): pass\n```")
    assert out == '<pre class="code" tabindex="0"><code>def f(): pass\n</code></pre>\n'


def test_malicious_language_name_is_dropped():
    out = render('```"><script>alert(1)</script> python\nx\n```')
    assert out == '<pre class="code" tabindex="0"><code>x\n</code></pre>\n'


def test_indented_and_inline_code_are_escaped_not_highlighted():
    out = render("    def f(): <b>\n")
    assert out == '<pre class="code" tabindex="0"><code>def f(): &lt;b&gt;\n</code></pre>\n'
    assert render("`<b> #tag @alice`") == "<p><code>&lt;b&gt; #tag @alice</code></p>\n"


def test_huge_code_is_not_highlighted():
    code = "x = 1\n" * (markup.MAX_HIGHLIGHTED_CHARS // 6 + 1)
    out = render(f"```python\n{code}```")
    assert "<span" not in out
    assert 'class="language-python"' in out


# --- hashtags -------------------------------------------------------------------------------


def test_hashtags_in_order_lower_cased_unique():
    text = "#Astana is lovely. #walks #ASTANA\n\n## Heading #Tech\n\n- item #walks"
    assert markup.hashtags(text) == ["astana", "walks", "tech"]


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("C# and F# are languages", []),
        ("#123 and #2024 are numbers; #2024goals is a tag", ["2024goals"]),
        ("https://x.com/#frag and x.com/page#frag", []),
        ("word#notatag and a##b", []),
        ("it&#39;s &#35;entity and \\#escaped", []),
        ("`#code` and\n\n```\n#fence\n```\n\n    #indented", []),
        ("[#linked](/somewhere) [text](https://x.com/#frag)", []),
        ("#қазақ #Қазақстан", ["қазақ", "қазақстан"]),
        ("#日本 #café #naïve_2", ["日本", "café", "naïve_2"]),
        ("(#paren), #end.", ["paren", "end"]),
        ("**#bold**#after", ["bold", "after"]),
        ("#" + "a" * 64 + " #" + "b" * 65, ["a" * 64]),
        ("#_ #snake_case_2", ["snake_case_2"]),
    ],
)
def test_hashtag_rules(text, tags):
    assert markup.hashtags(text) == tags


def test_hashtag_spelled_with_a_combining_accent_is_the_same_tag():
    assert markup.hashtags("#cafe\u0301 #café") == ["café"]


def test_hashtags_are_linked(request_ctx):
    out = render("Hello #World and #қазақ")
    assert '<a href="/tags/world" class="hashtag">#World</a>' in out
    assert f'<a href="/tags/{quote("қазақ")}" class="hashtag">#қазақ</a>' in out


def test_hashtag_links_come_from_url_for_when_the_endpoint_exists():
    app = Flask(__name__)
    posts = Blueprint("posts", __name__)
    posts.add_url_rule("/topics/<name>", "hashtag", lambda name: name)
    app.register_blueprint(posts)
    with app.test_request_context(base_url="http://localhost/root"):
        assert 'href="/root/topics/tea"' in render("#Tea")
    with app.app_context():  # no request and no SERVER_NAME: url_for cannot work
        assert 'href="/tags/tea"' in render("#Tea")


def test_rendering_works_without_an_app_context():
    assert '<a href="/tags/tea" class="hashtag">#tea</a>' in render("#tea")


# --- mentions -------------------------------------------------------------------------------


def test_mentions_as_written_unique_case_insensitively():
    text = "@Alice meets @bob_99 and @alice again; cc @BOB_99"
    assert markup.mentions(text) == ["Alice", "bob_99"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("mail me at alice@example.com", []),
        ("@ab is too short, @abc is not", ["abc"]),
        ("@" + "a" * 30 + " @" + "b" * 31, ["a" * 30]),
        ("@@double x.@dot https://x.com/@path", []),
        ("`@code` [@linked](/u/x)\n\n```\n@fence\n```", []),
        ("(@paren), @end.", ["paren", "end"]),
        ("\\@escaped", []),
    ],
)
def test_mention_rules(text, names):
    assert markup.mentions(text) == names


def test_mentions_link_where_the_resolver_knows_the_user():
    calls: list[str] = []

    def resolve(name: str) -> str | None:
        calls.append(name)
        return f"/u/{name.lower()}" if name.lower() == "alice" else None

    out = render("@Alice @nobody @alice", mention_url=resolve)
    assert out == (
        '<p><a href="/u/alice" class="mention">@Alice</a> @nobody '
        '<a href="/u/alice" class="mention">@alice</a></p>\n'
    )
    assert calls == ["Alice", "nobody"]  # one call per user, whatever the case


def test_mentions_without_a_resolver_stay_text():
    assert render("hi @alice") == "<p>hi @alice</p>\n"


def test_extraction_is_idempotent_and_matches_rendering(request_ctx):
    text = "#b #a @Zed #B @amy [#x](/y) @zed `#c`"
    assert markup.hashtags(text) == markup.hashtags(text) == ["b", "a"]
    assert markup.mentions(text) == markup.mentions(text) == ["Zed", "amy"]
    out = render(text, mention_url=lambda name: f"/u/{name}")
    assert re.findall(r'class="hashtag">#(\w+)<', out) == ["b", "a", "B"]
    assert re.findall(r'class="mention">@(\w+)<', out) == ["Zed", "amy", "zed"]


# --- the sanitizer ---------------------------------------------------------------------------


def _decoded(vector: str) -> str:
    text = html.unescape(unquote(vector))
    for chunk in re.findall(r"base64,([A-Za-z0-9+/=]+)", vector):
        text += base64.b64decode(chunk).decode(errors="replace")
    for chunk in re.findall(r"atob\('([A-Za-z0-9+/=]+)'\)", vector):
        text += base64.b64decode(chunk).decode()
    return text


def test_corpus_is_large_and_every_vector_shows_itself_twice():
    assert len(VECTORS) >= 120
    assert len(set(VECTORS)) == len(VECTORS)
    for vector in VECTORS:
        try:
            decoded = _decoded(vector)
        except (binascii.Error, UnicodeDecodeError) as error:  # pragma: no cover
            pytest.fail(f"{vector!r}: {error}")
        assert "__xss" in decoded, vector
        assert re.search(r"\b(alert|confirm|prompt)\(", decoded), vector


@pytest.mark.parametrize("vector", VECTORS, ids=range(len(VECTORS)))
def test_vector_renders_inert(request_ctx, vector):
    assert_inert(render(vector, mention_url=lambda name: f"/u/{name}"))


def test_the_inertness_check_catches_what_it_should():
    for bad in (
        '<p onclick="x">a</p>',
        '<a href="java\tscript:x">a</a>',
        '<a hx-get="/x">a</a>',
        '<div class="x">a</div>',
        '<a href="//evil.example">a</a>',
        "<p><em>a</p>",
        '<img src="x">',
    ):
        with pytest.raises(AssertionError):
            assert_inert(bad)


@pytest.mark.parametrize(
    ("tag", "name", "value", "allowed"),
    [
        ("span", "class", "k", True),
        ("span", "class", "nf", True),
        ("span", "class", "g-Underline", True),
        ("span", "class", "button", False),
        ("span", "class", "k onclick", False),
        ("span", "class", "", False),
        ("code", "class", "language-python", True),
        ("code", "class", "language-x y", False),
        ("pre", "class", "code", True),
        ("pre", "class", "other", False),
        ("a", "class", "hashtag", True),
        ("a", "class", "button", False),
        ("a", "href", "/u/x", True),
        ("a", "href", "/\\evil.example", False),
        # Browsers drop tabs and newlines inside URLs: these are "//evil.example".
        ("a", "href", "/\t/evil.example", False),
        ("a", "href", "/\n/evil.example", False),
        ("a", "href", "/\r\n/evil.example", False),
        ("a", "href", "/%5Cevil.example", False),
        ("a", "href", "/tags/caf%C3%A9", True),
        ("a", "rel", "opener", False),
        ("a", "style", "color:red", False),
        ("ol", "start", "7", True),
        ("ol", "start", "7x", False),
        ("td", "align", "center", True),
        ("td", "align", "justify", False),
        ("p", "id", "x", False),
    ],
)
def test_attribute_allowlist(tag, name, value, allowed):
    assert markup._allowed_attribute(tag, name, value) is allowed


def test_the_cleaner_second_wall_strips_what_the_renderer_never_makes():
    dirty = (
        '<h1 id="x">T</h1><img src=x onerror=alert(1)><a href="javascript:alert(1)" '
        'onclick="x" rel="opener" target="_self">a</a><a href="https://e.com" target="_self">'
        'e</a><span class="button">s</span><!-- c --><div hx-get="/x">d</div>'
    )
    assert markup._clean(dirty) == (
        f'T<a>a</a><a href="https://e.com" {EXTERNAL}>e</a><span>s</span>\nd'
    )


def test_the_cleaner_drops_a_local_looking_link_a_browser_reads_as_another_site():
    # A tab written as an entity reaches the allowlist as a real tab.
    assert markup._clean('<a href="/&#9;/evil.example">a</a>') == "<a>a</a>"


def test_renders_concurrently():
    text = "# T\n\n```python\ndef f(): pass\n```\n\n#tag @alice " + "words " * 200
    expected = render(text)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render(text), range(40)))
    assert results == [expected] * 40


# --- code.css ------------------------------------------------------------------------------


def test_code_css_is_the_generated_file():
    assert CODE_CSS.read_text() == markup.code_css(), (
        "regenerate: .venv/bin/python -c 'from qosyl.render.markup import code_css; "
        'print(code_css(), end="")\' > qosyl/static/css/code.css'
    )


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_code_colours_pass_wcag_aa(theme):
    css = markup.code_css()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    part = light if theme == "light" else dark
    background = re.search(r"^\s*\.code \{ background: (#\w+);", part, re.M).group(1)
    checked = 0
    for selector, body in re.findall(r"^\s*(\.code[^{]*)\{([^}]*)\}", part, re.M):
        colour = re.search(r"(?<![-\w])color: (#\w+)", body)
        # Whitespace tokens have no visible glyphs to read.
        if not colour or selector.strip() == ".code .w":
            continue
        own_background = re.search(r"background-color: (#\w+)", body)
        ratio = _contrast(
            colour.group(1), own_background.group(1) if own_background else background
        )
        assert ratio >= 4.5, f"{theme} {selector.strip()}: {ratio:.2f}"
        checked += 1
    assert checked > 40
