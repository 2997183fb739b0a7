"""Take the screenshots of docs/screenshots/ from the demo, with headless Chromium.

Not a test (pytest does not collect it). Run the demo first, then this script:

    DEBUG=1 DATABASE_URL=sqlite:////tmp/screens.sqlite3 .venv/bin/python manage.py migrate
    DEBUG=1 DATABASE_URL=sqlite:////tmp/screens.sqlite3 .venv/bin/python manage.py load_demo
    DEBUG=1 DATABASE_URL=sqlite:////tmp/screens.sqlite3 \
        .venv/bin/python manage.py runserver 127.0.0.1:8011 --noreload &
    .venv/bin/python tests/screens/screenshots.py [http://127.0.0.1:8011] [docs/screenshots]

It signs in as each demo account (password Demo@2026), opens the actor's main page in
Vietnamese and saves one PNG per actor.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PASSWORD = "Demo@2026"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def sign_in(browser, base, username):
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="vi-VN", device_scale_factor=1
    )
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[method=post] button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def cadre_plan(page, base):
    """The head of Sở Nội vụ plans the quarter; the R2 check answers as the weights are typed."""
    page.goto(f"{base}/my/")
    page.locator("a[href$='/plan/']").first.click()
    page.wait_for_load_state("networkidle")
    page.fill("input[name='tasks-0-title']", "Tham mưu kế hoạch chuyển đổi số của ngành")
    page.fill("input[name='tasks-0-expected_product']", "Kế hoạch được phê duyệt")
    page.select_option("select[name='tasks-0-axis']", "3")
    page.fill("input[name='tasks-0-weight']", "60")
    page.fill("input[name='tasks-0-deadline']", "15/12/2026")
    page.select_option("select[name='axes-axis_3']", "primary")
    page.wait_for_timeout(2000)


def board(page, base):
    """The managing authority's decision board of Sở Nội vụ."""
    page.goto(f"{base}/decisions/")
    page.get_by_role("link", name="Sở Nội vụ").first.click()
    page.wait_for_load_state("networkidle")


SHOTS = [
    ("canbo", "/my/", None, "cadre-my-quarter.png"),
    ("giamdoc", None, cadre_plan, "cadre-plan.png"),
    ("giamdoc", "/inbox/", None, "superior-inbox.png"),
    ("thamdinh", "/vetting/", None, "advisory-vetting-queue.png"),
    ("lanhdao", None, board, "authority-decision-board.png"),
    ("tochuc", "/progress/", None, "organisation-progress.png"),
    ("tochuc", "/publication/", None, "organisation-publication.png"),
    ("quantri", "/organisation/", None, "administrator.png"),
]


def main(base="http://127.0.0.1:8011", out="docs/screenshots"):
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for username, path, action, name in SHOTS:
            page = sign_in(browser, base, username)
            if action is not None:
                action(page, base)
            else:
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
            page.screenshot(path=str(target / name), full_page=True)
            print(target / name, page.title())
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
