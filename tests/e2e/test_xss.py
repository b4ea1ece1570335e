"""Every vector of tests/xss_corpus.py, rendered by qosyl.render.markup, stays inert in Chromium.

One page holds all the rendered vectors with the app's real stylesheets and htmx
2. The context bypasses the Content-Security-Policy, so only the sanitizer stands
between a vector and the page. Each fragment appears twice: inside an `hx-disable`
element, as the app places user content, and once more outside any, so the
output is shown safe for htmx on its own too. The page then has htmx process it,
every element is focused, clicked and sent pointer, key and form events, and a
second later nothing may have run: no dialog, no `window.__xss`, and no attribute
that could run code or drive htmx.

The page is served from a made-up origin by request routing; every other request
is aborted inside the browser, so no vector reaches the network.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from qosyl import create_app
from qosyl.render import markup
from tests.xss_corpus import VECTORS

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "qosyl" / "static"
ORIGIN = "http://qosyl.test"

DISPATCH_EVENTS = """(root) => {
  const types = [
    "pointerover", "pointerenter", "mouseover", "mouseenter", "mousemove", "pointerdown",
    "mousedown", "focus", "focusin", "pointerup", "mouseup", "click", "dblclick",
    "auxclick", "contextmenu", "keydown", "keypress", "keyup", "input", "change",
    "toggle", "load", "error", "animationstart", "transitionend", "touchstart",
    "wheel", "copy", "paste", "drag", "drop", "blur", "focusout", "mouseout", "mouseleave",
  ];
  let count = 0;
  for (const element of root.querySelectorAll("*")) {
    if (typeof element.focus === "function") element.focus();
    for (const type of types) {
      element.dispatchEvent(new Event(type, {bubbles: true, cancelable: true}));
      count++;
    }
    if (typeof element.click === "function") element.click();  // default actions too
  }
  return count;
}"""

# Attributes that could run script or make htmx act, on anything under root.
FIND_DANGER = r"""(root) => {
  const bad = [];
  const scheme = (value) => value.replace(/[\u0000-\u0020\u007f]/g, "").toLowerCase();
  for (const element of root.querySelectorAll("article *")) {
    const tag = element.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "base", "meta", "form", "svg", "math",
         "img", "style", "link"].includes(tag)) {
      bad.push(`<${tag}>`);
    }
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-") || name.startsWith("data-hx-")) {
        bad.push(`<${tag} ${name}>`);
      }
      if (["href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"]
          .includes(name) && /^(javascript|vbscript|data):/.test(scheme(attribute.value))) {
        bad.push(`<${tag} ${name}=${attribute.value.slice(0, 40)}>`);
      }
    }
  }
  return bad;
}"""


@pytest.fixture(autouse=True)
def _short_timeouts():
    """Overrides the e2e conftest's, which asks for `page` and so starts the live
    server: this module needs only a browser."""


@pytest.fixture
def xss_context(browser):
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def render_all(vectors: list[str]) -> list[str]:
    app = create_app("testing")
    with app.app_context():
        return [str(markup.render(v, mention_url=lambda name: f"/u/{name}")) for v in vectors]


def document(fragments: list[str]) -> str:
    articles = "\n".join(f"<article>{fragment}</article>" for fragment in fragments)
    stylesheets = "\n".join(
        f"<style>{(STATIC / 'css' / name).read_text()}</style>" for name in ("app.css", "code.css")
    )
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>XSS corpus</title>{stylesheets}</head>
<body hx-boost="true">
<main>
<section id="guarded" hx-disable>
{articles}
</section>
<section id="unguarded">
{articles}
</section>
</main>
</body>
</html>"""


def run_page(context, fragments: list[str]) -> dict:
    """Load the fragments, poke every element, and report what happened."""
    page_html = document(fragments)

    def serve(route):
        if route.request.url == ORIGIN + "/":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page_html)
        else:
            route.abort()

    context.route("**/*", serve)
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(ORIGIN + "/")
    page.add_script_tag(content=(STATIC / "vendor" / "htmx.min.js").read_text())
    # Links and buttons must not leave the page while they are clicked. A javascript:
    # link runs in place instead of leaving, so it is let through: it would be caught.
    page.evaluate(
        """() => {
          for (const type of ["click", "auxclick", "submit"]) {
            window.addEventListener(type, (event) => {
              const link = event.target.closest ? event.target.closest("a[href]") : null;
              const href = link ? link.getAttribute("href").replace(/[\\u0000-\\u0020]/g, "") : "";
              if (type === "click" && /^javascript:/i.test(href)) return;
              event.preventDefault();
            }, true);
          }
          htmx.process(document.body);
        }"""
    )
    counts = page.evaluate(
        """() => [...document.querySelectorAll("section")].map(
             section => section.querySelectorAll(":scope > article").length)"""
    )
    main = page.locator("main")
    main.evaluate(DISPATCH_EVENTS)
    page.wait_for_timeout(1000)
    result = {
        "dialogs": dialogs,
        "flag": page.evaluate("typeof window.__xss === 'undefined' ? null : window.__xss"),
        "danger": main.evaluate(FIND_DANGER),
        "articles": counts,
        "errors": errors,
    }
    page.close()
    return result


def test_rendered_corpus_runs_nothing(xss_context):
    fragments = render_all(VECTORS)
    result = run_page(xss_context, fragments)
    # Each vector stayed inside its own <article>: none swallowed the ones after it.
    assert result["articles"] == [len(VECTORS), len(VECTORS)]
    assert result["dialogs"] == [], result
    assert result["flag"] is None, result
    assert result["danger"] == [], result


@pytest.mark.parametrize(
    "raw",
    [
        '<img src=x onerror="window.__xss=1;alert(1)">',
        '<button hx-on:click="window.__xss=1;alert(2)">b</button>',  # htmx runs it
        '<a href="javascript:window.__xss=1;alert(3)">a</a>',
    ],
    ids=["onerror", "hx-on", "javascript-href"],
)
def test_the_harness_notices_code_that_runs(xss_context, raw):
    """Unsanitized HTML in the same page: the checks above would have failed."""
    result = run_page(xss_context, [raw, html.escape("plain text")])
    assert result["articles"] == [2, 2]
    assert result["dialogs"], result
    assert result["flag"] == 1, result
    assert result["danger"], result
