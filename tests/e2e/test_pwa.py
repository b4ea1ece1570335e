"""Chromium finds the app installable and serves the offline page without network (PWA-1/2/3)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_until


def wait_for_service_worker(page) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(registration => registration.scope)")
    # The first load is not controlled yet; clients.claim() takes it over.
    wait_until(page, "navigator.serviceWorker.controller !== null")


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
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Hello, Off")).to_be_visible()

    # A boosted link followed offline also ends on the offline page, not a dead page.
    wait_until(page, "navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.get_by_role("link", name="Notifications").click()
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
