"""The API reference pages in Chromium: Swagger UI and ReDoc draw the OpenAPI document under
the site's CSP (their scripts from npm, no inline script), and Swagger UI's "Try it out"
calls the API with a token, as a developer would."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def _watch_errors(page) -> list[str]:
    """Script errors, and CSP refusals of scripts, styles or workers. (ReDoc's footer logo
    from its CDN is refused by img-src, as the site wants: nothing loads from elsewhere.)"""
    errors: list[str] = []

    def console(message) -> None:
        if message.type == "error" and not re.search(r"img-src|401 \(UNAUTHORIZED\)", message.text):
            errors.append(f"{message.text} at {message.location.get('url')}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_swagger_ui_shows_the_operations_and_tries_one_with_a_token(page, live_server):
    errors = _watch_errors(page)
    page.goto("/api/swagger/")
    expect(page.get_by_role("heading", name=re.compile("Qosyl API"))).to_be_visible()
    login = page.locator("#operations-auth-auth_login")
    expect(login).to_be_visible()
    login.get_by_role("button", name="POST /api/auth/login/ Exchange").click()
    login.get_by_role("button", name="Try it out").click()
    login.locator("textarea").fill('{"login": "nobody", "password": "wrong"}')
    login.get_by_role("button", name="Execute").click()
    # The live call answered in the API's one error shape.
    expect(login.locator(".live-responses-table")).to_contain_text("401")
    expect(login.locator(".live-responses-table")).to_contain_text("unauthorized")
    assert errors == []


def test_redoc_draws_the_reference_and_the_live_events(page, live_server):
    errors = _watch_errors(page)
    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name=re.compile("Qosyl API"))).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name=re.compile("Live events"))).to_be_attached()
    expect(page.get_by_text("/api/auth/refresh/").first).to_be_attached()
    assert errors == []
