"""Browser journeys: Playwright driving Debian's Chromium against pytest-django's live server.

Every actor signs in through the real login form (so the sign-in protections run too) in a
browser context of their own. When a test fails, each open page is saved as a full-page
screenshot, test-artifacts/e2e/<test>/<context>.png, and the folder is printed.
"""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
ARTIFACTS = Path("test-artifacts") / "e2e"

expect.set_options(timeout=TIMEOUT_MS)


# --- Browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in the test's thread, and Django refuses ORM
    # calls from a thread with a running loop unless told that this is safe; here it is. Set
    # here rather than at import: pytest imports this file for every run, e2e or not.
    unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if unsafe is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe


class Actors:
    """One browser context per actor, each signed in through the login form."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts: dict = {}
        # Script errors and Content-Security-Policy refusals: (context, page address, text).
        self.errors: list[tuple[str, str, str]] = []

    def sign_in(self, name: str, user, *, locale: str = "vi-VN") -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts[name] = context
        page = context.new_page()
        self._watch(name, page)
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.locator("#main form[method=post] button[type=submit]").click()
        expect(page).to_have_url(f"{self.base_url}/")  # the home page, signed in
        expect(page.locator(".topbar .who")).to_have_text(user.display_name)
        return page

    def _watch(self, name: str, page: Page) -> None:
        # Buttons that cannot be undone ask with window.confirm: the actor says yes.
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("pageerror", lambda error: self.errors.append((name, page.url, str(error))))
        page.on(
            "console",
            lambda message: (
                self.errors.append((name, page.url, message.text))
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture
def actors(request, browser, live_server):
    """Sign actors in with ``actors.sign_in(name, user)``; their pages close after the test."""
    cache.clear()  # sign-in attempts are counted in the cache: start from none
    found = Actors(browser, live_server.url)
    request.node.e2e_actors = found  # for the screenshots on failure
    yield found
    found.close()


# --- Screenshots on failure --------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    found = getattr(item, "e2e_actors", None)
    if report.when != "call" or not report.failed or found is None:
        return
    folder = item.config.rootpath / ARTIFACTS / re.sub(r"[^\w.-]+", "_", item.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    saved = []
    for name, context in found.contexts.items():
        for number, page in enumerate(context.pages, start=1):
            stem = name if number == 1 else f"{name}-{number}"
            try:
                page.screenshot(path=folder / f"{stem}.png", full_page=True, timeout=10_000)
                (folder / f"{stem}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a broken page must not hide the test's own failure
                saved.append(f"{stem}: no screenshot ({exc.__class__.__name__}: {exc})")
            else:
                saved.append(f"{stem}.png ({page.url})")
    line = f"e2e artifacts of {item.nodeid}: {folder}"
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line("")
        terminal.write_line(line)
    else:
        print(line, file=sys.stderr)
    report.sections.append(("e2e artifacts", "\n".join([str(folder), *saved])))
