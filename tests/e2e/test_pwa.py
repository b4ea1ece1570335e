"""Chromium finds the app installable and serves the offline page without network (PWA-1/2/3)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_until


def wait_for_service_worker(page) -> None:
    """Until the worker is active and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(registration => registration.scope)")
    # The first load is not controlled yet; clients.claim() takes it over, after the new
    # worker has cleared old caches: more than 10 s once on a machine running three suites.
    # But a page whose navigation began before the worker was active, and that became a
    # client only after its claim, stays uncontrolled (failed once in CI): its next load
    # is controlled, as a person's next visit is. So the page loads again now and then.
    deadline = time.monotonic() + 45
    while True:
        try:
            wait_until(page, "navigator.serviceWorker.controller !== null", timeout=15)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def test_chromium_reports_the_app_installable(
    browser_type, browser_type_launch_args, base_url, tmp_path
):
    # A profile on disk: Chromium never offers to install from an incognito window.
    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"), base_url=base_url, **browser_type_launch_args
    )
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("/")
    wait_for_service_worker(page)
    cdp = context.new_cdp_session(page)
    result = cdp.send("Page.getInstallabilityErrors")
    assert result["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert manifest["url"].endswith("/manifest.webmanifest")
    context.close()


def test_offline_page_is_served_after_one_visit(page, context, make_live_user):
    sign_in(page, make_live_user(first_name="Off", last_name="Line"))
    wait_for_service_worker(page)
    context.set_offline(True)
    page.goto("/notifications")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    # The shell's stylesheet came from the cache too.
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "12px"
    context.set_offline(False)
    # Back online, the offline page reloads itself into the page that was asked for.
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()

    # A boosted link to a page never opened, followed offline, also ends on the offline
    # page, not a dead page.
    wait_until(page, "navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.get_by_role("link", name="Rooms").click()
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    context.set_offline(False)


def test_pages_fit_a_360_pixel_phone(browser, base_url, make_live_user):
    context = browser.new_context(
        base_url=base_url, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    sign_in(page, make_live_user(first_name="Narrow", last_name="Screen"))
    for url in ("/", "/notifications", "/settings/profile", "/register"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow}px wider than the screen"
    page.goto("/")
    page.get_by_label("Account menu").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    context.close()


KEPT_PAGES = """caches.keys().then((names) => {
  const kept = names.filter((name) => name.startsWith("qosyl-pages-"));
  if (kept.length !== 1) return kept.length === 0 ? 0 : -1;
  return caches.open(kept[0]).then((cache) => cache.keys()).then((keys) => keys.length);
})"""


def test_visited_pages_stay_readable_offline_and_come_back_online(
    page, context, live_server, make_live_user
):
    ana = make_live_user(first_name="Ana", last_name="Offline")
    bo = make_live_user(first_name="Bo", last_name="Offline")
    with live_server.app().app_context():
        from qosyl.actions import messages
        from qosyl.actions import posts
        from qosyl.actions.accounts import user_by_username

        conversation = messages.direct_conversation(user_by_username(ana), user_by_username(bo))
        messages.send_message(user_by_username(bo), conversation, "See you on the train")
        posts.create_post(user_by_username(ana), "Notes for the **trip**")
        chat_url = f"/messages/{conversation.id}"
    sign_in(page, ana)
    wait_for_service_worker(page)
    page.goto("/")
    # Through the app's own (boosted) links, as people move around.
    page.get_by_role("link", name="Messages").first.click()
    page.get_by_role("link", name=re.compile("Bo Offline")).first.click()
    page.wait_for_url(f"**{chat_url}")
    expect(page.get_by_text("See you on the train")).to_be_visible()
    wait_until(page, f"{KEPT_PAGES}.then((count) => count >= 3)")
    # An HTMX fragment of a kept page must not replace the whole page in the cache.
    fragment = page.evaluate(
        "fetch('/messages', {headers: {'HX-Request': 'true'}}).then((r) => r.text())"
    )
    assert "<body" not in fragment

    context.set_offline(True)
    page.reload()
    expect(page.get_by_text("See you on the train")).to_be_visible()
    # The chat's modules ran: the entry script and every file it imports came from the cache.
    wait_until(page, "document.querySelector('[data-chat-conversation]').dataset.chatReady === '1'")
    banner = page.get_by_text("You are offline: this is a saved copy")
    expect(banner).to_be_visible()
    page.goto("/messages")
    expect(page.get_by_role("link", name=re.compile("Bo Offline")).first).to_be_visible()
    expect(banner).to_be_visible()
    expect(page.get_by_role("banner")).to_be_visible()  # the whole page, not the fragment
    page.goto("/")
    expect(page.get_by_text("Notes for the trip")).to_be_visible()
    expect(banner).to_be_visible()
    # A page never opened: the offline page, which reloads itself once back online.
    page.goto("/people")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    context.set_offline(False)
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    assert page.url.endswith("/people")

    # Signing out forgets every kept page: nothing of Ana's is left for the next person.
    page.get_by_label("Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login|/$"))
    wait_until(page, f"{KEPT_PAGES}.then((count) => count === 0)")
    context.set_offline(True)
    page.goto(chat_url)
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_text("See you on the train")).to_have_count(0)
    context.set_offline(False)


def test_a_photo_opens_in_the_app_viewer(page, live_server, make_live_user):
    from io import BytesIO

    from tests import images

    author = make_live_user(first_name="Pho", last_name="To")
    with live_server.app().app_context():
        from qosyl.actions import posts
        from qosyl.actions.accounts import user_by_username
        from qosyl.actions.uploads import Upload

        photo = Upload(BytesIO(images.png(1200, 900, color="teal")), "lake.png")
        posts.create_post(user_by_username(author), "A photo of the lake", photo)
    sign_in(page, author)
    url = page.url
    thumbnail = page.get_by_role("img", name="Photo posted by Pho To")
    thumbnail.click()

    viewer = page.get_by_role("dialog", name="Photo")
    expect(viewer).to_be_visible()
    shown = viewer.get_by_role("img", name="Photo posted by Pho To")
    expect(shown).to_be_visible()
    wait_until(page, "document.querySelector('dialog.viewer img').naturalWidth > 0")
    close = viewer.get_by_role("button", name="Close")
    expect(close).to_be_focused()
    fitted = shown.bounding_box()["width"]
    viewer.get_by_role("button", name="Zoom in").click()
    expect(viewer).to_have_attribute("data-scale", "1.50")
    assert shown.bounding_box()["width"] > fitted * 1.4
    viewer.get_by_role("button", name="Zoom out").click()
    expect(viewer).to_have_attribute("data-scale", "1.00")
    # The original stays one tap away.
    expect(viewer.get_by_role("link", name="Original")).to_have_attribute(
        "href", re.compile(r"/media/post/.+_display\.webp$")
    )
    close.click()
    expect(viewer).to_be_hidden()
    expect(page.get_by_role("link", name="Photo posted by Pho To")).to_be_focused()
    # Escape closes it too, and the page never left.
    thumbnail.click()
    expect(viewer).to_be_visible()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert page.url == url
