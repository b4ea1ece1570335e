"""A newcomer signs up, verifies by mail, sets up a profile and comes back (ACC, PRO, NOTE-2)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests import images
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import wait_for_live_channel

PASSWORD = "violet-mountain-river-42"


def fill_sign_up(
    page, username: str, email: str, password: str = PASSWORD, confirm: str | None = None
) -> None:
    page.goto("/register")
    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Sadykova")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(confirm or password)
    page.get_by_role("button", name="Create account").click()


def test_sign_up_verify_set_up_profile_sign_out_and_in(page, smtp, tmp_path):
    username = f"dana_{uuid.uuid4().hex[:6]}"
    email = f"{username}@example.com"
    fill_sign_up(page, username, email)
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()

    # Not verified yet: signing in is refused with a way out.
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Verify your email address before signing in")).to_be_visible()
    expect(page.get_by_role("button", name="Send the verification link again")).to_be_visible()

    # The mail arrived at a real SMTP server; its link signs in and opens profile setup.
    page.goto(smtp.link(email, "/verify/"))
    expect(page.get_by_role("heading", name="Set up your profile")).to_be_visible()
    bell = page.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(bell).to_have_accessible_name("Notifications")
    wait_for_live_channel(page)

    avatar = tmp_path / "me.png"
    avatar.write_bytes(images.png(320, 320, color="purple"))
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Avatar").set_input_files(avatar)
    page.get_by_label("Bio").fill("Data engineer in Almaty. Mountains on weekends.")
    page.get_by_label("Address").fill("Almaty")
    page.get_by_label("Country").select_option(label="Kazakhstan")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="You are all set, Dana!")).to_be_visible()
    # The welcome notification reaches the bell over the socket, without a reload.
    expect(bell).to_have_accessible_name("Notifications, 1 unread")
    expect(page.locator("#toasts").get_by_text("Your profile is ready")).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True

    page.get_by_role("link", name="View your profile").click()
    expect(page.get_by_role("heading", name="Dana Sadykova")).to_be_visible()
    expect(page.get_by_text("Data engineer in Almaty.")).to_be_visible()
    portrait = page.get_by_role("img", name="Dana Sadykova")
    expect(portrait).to_be_visible()
    assert portrait.evaluate("img => img.naturalWidth") == 400

    menu = page.get_by_role("button", name="Account menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Username or email").fill(email.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Dana")).to_be_visible()
    expect(bell).to_have_accessible_name("Notifications, 1 unread")

    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    item = page.get_by_role("listitem").filter(has_text="Welcome to Qosyl!")
    # Opening the page reads what it shows; this view still marks the item as new.
    expect(bell).to_have_accessible_name("Notifications")
    expect(item).to_contain_text("Unread:")


def test_bad_sign_up_input_is_explained_next_to_the_field(page, make_live_user):
    taken = make_live_user(first_name="Taken", last_name="Name")
    fill_sign_up(page, taken.upper(), f"{taken}-new@example.com")
    username = page.get_by_label("Username")
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#username-error")).to_have_text("This username is taken.")
    expect(username).to_be_focused()

    fresh = f"fresh_{uuid.uuid4().hex[:6]}"
    fill_sign_up(page, fresh, f"{fresh}@example.com", password="password123")
    expect(page.locator("#password-error")).to_contain_text("common password")
    expect(page.get_by_label("Username")).to_have_value(fresh)  # kept for the next try
    expect(page.get_by_label("Password", exact=True)).to_have_value("")

    fill_sign_up(page, fresh, f"{fresh}@example.com", confirm="something-else-entirely")
    expect(page.locator("#confirm-error")).to_have_text("The passwords do not match.")

    page.goto("/login")
    page.get_by_label("Username or email").fill(fresh)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The username, email or password is not correct.")).to_be_visible()


def test_bad_images_are_refused_in_the_browser(page, make_live_user, tmp_path):
    sign_in(page, make_live_user(first_name="Ira", last_name="Upload"))
    page.goto("/settings/profile")
    svg = tmp_path / "avatar.svg"
    svg.write_bytes(images.SVG)
    fake = tmp_path / "photo.png"
    fake.write_bytes(images.HTML_AS_PNG)

    page.get_by_label("Avatar").set_input_files(svg)
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#avatar-error")).to_contain_text("SVG images are not accepted.")

    page.get_by_label("Avatar").set_input_files(fake)
    page.get_by_label("Cover photo").set_input_files(fake)
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#avatar-error")).to_contain_text("not an image we can read")
    expect(page.locator("#cover-error")).to_contain_text("not an image we can read")
    expect(page.locator("img[src*='/media/']")).to_have_count(0)  # nothing was stored


def test_a_profile_link_the_browser_reads_as_another_site_is_refused(page, make_live_user):
    username = make_live_user(first_name="Lia", last_name="Links")
    sign_in(page, username)
    tricky = "https://evil.example\\@github.com/lia"
    # The premise, from the browser itself: a backslash ends the host.
    assert page.evaluate("(url) => new URL(url).host", tricky) == "evil.example"

    page.goto("/settings/profile")
    page.get_by_label("GitHub").fill(tricky)
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#github-error")).to_contain_text("Use / rather than \\ in a web address.")
    expect(page.get_by_label("GitHub")).to_have_value(tricky)

    page.get_by_label("GitHub").fill("GitHub.com/lia")
    page.get_by_role("button", name="Save profile").click()
    link = page.get_by_role("link", name="GitHub")
    expect(link).to_have_attribute("href", "https://github.com/lia")
