"""Pages load their scripts, and the modules those import, by hashed URL; a second visit
takes them from the browser's caches (qosyl/web/assets.py, the import map in base.html)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel

HASHED_SCRIPT = re.compile(r"/static/.+\.[0-9a-f]{10}\.js$")


class CacheWatch:
    """Through CDP: which script requests were answered from a cache (memory or disk) or
    by the service worker, rather than by the server."""

    def __init__(self, cdp):
        self.scripts: dict[str, str] = {}  # request id -> URL
        self.cached: set[str] = set()
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", lambda event: self.cached.add(event["requestId"]))
        cdp.on("Network.responseReceived", self._received)
        cdp.send("Network.enable")

    def _sent(self, event: dict) -> None:
        if event.get("type") == "Script":
            self.scripts[event["requestId"]] = event["request"]["url"]

    def _received(self, event: dict) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromServiceWorker"):
            self.cached.add(event["requestId"])

    def from_server(self) -> list[str]:
        return [url for key, url in self.scripts.items() if key not in self.cached]


def test_modules_load_by_hashed_url_and_come_from_cache_on_the_next_visit(
    page, context, make_live_user
):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    scripts: list[str] = []
    page.on(
        "request", lambda request: request.resource_type == "script" and scripts.append(request.url)
    )

    sign_in(page, make_live_user(first_name="Cache", last_name="Keeper"))
    expect(page.get_by_role("heading", name="Hello, Cache")).to_be_visible()
    wait_for_live_channel(page)
    ours = [url for url in scripts if "/static/" in url]
    assert [url for url in ours if not HASHED_SCRIPT.search(url)] == []
    # socket.js is only ever imported, never in a script tag: the import map found it.
    assert any(re.search(r"/static/js/socket\.[0-9a-f]{10}\.js$", url) for url in ours)

    watch = CacheWatch(context.new_cdp_session(page))
    page.goto("/")
    expect(page.get_by_role("heading", name="Hello, Cache")).to_be_visible()
    wait_for_live_channel(page)
    assert [url for url in watch.scripts.values() if "/static/" in url]
    assert watch.from_server() == []
    assert errors == []
