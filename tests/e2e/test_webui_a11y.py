"""Accessibility in the browser: every page's form fields are labelled and its
controls reachable, and a keyboard-only user (TAB, ENTER, SPACE and typing,
no mouse) can sign in, find a repository and star it, seeing where the focus
is at every stop."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.support.browser import (
    a11y_problems,
    browser,
    focus_visible,
    shot,
)
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack
from tests.e2e.test_webui_browse import wait_for_repository

__all__ = ["browser"]  # the fixture this module's scenarios use

REPOSITORY = "a11y-keyboard"


@pytest.fixture(scope="module")
def repo_id(stack: RunningStack, admin: dict[str, str],
            tmp_path_factory: pytest.TempPathFactory) -> int:
    """A repository in the global namespace, for the pages that show one."""
    layout = tmp_path_factory.mktemp("a11y") / "image"
    simple_image(layout, "v1", content="a11y")
    pushed = Skopeo(stack.host).push(layout, "v1", REPOSITORY,
                                     f"{admin['username']}:{admin['token']}")
    assert pushed.ok, pushed.err
    return wait_for_repository(stack, admin, REPOSITORY)


def press(driver: Any, *keys: str) -> None:
    """Type ``keys`` into whatever has the focus, as a keyboard would."""
    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver: Any, matches: str, limit: int = 80) -> Any:
    """Press TAB until the focused element matches the CSS selector ``matches``;
    every element on the way must show that it has the focus."""
    for _ in range(limit):
        press(driver, Keys.TAB)
        active = driver.switch_to.active_element
        assert focus_visible(driver), (
            f"no visible focus on {active.tag_name} {active.text!r}")
        if driver.execute_script("return document.activeElement.matches(arguments[0])",
                                 matches):
            return active
    raise AssertionError(f"TAB never reached {matches} on {driver.current_url}")


def test_keyboard_only_sign_in_find_and_star(stack: RunningStack, admin: dict[str, str],
                                            repo_id: int, browser: Any) -> None:
    wait = WebDriverWait(browser, 15)
    browser.get(f"{stack.url}/explore")
    # The first TAB of a page lands on the skip link, which then shows itself.
    skip = tab_to(browser, "a.skip", limit=1)
    assert skip.is_displayed() and skip.location["x"] >= 0
    shot(browser, "01-skip-link")
    press(browser, Keys.ENTER)
    tab_to(browser, "main *", limit=1)  # the skip link led past the header

    browser.refresh()
    tab_to(browser, "header a[href$='/login']")
    press(browser, Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    assert browser.switch_to.active_element.get_attribute("id") == "username"
    press(browser, admin["username"], Keys.TAB, admin["password"], Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Hello"))
    shot(browser, "02-signed-in")

    tab_to(browser, "#site-search")
    press(browser, REPOSITORY, Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "search-results")))
    tab_to(browser, f"#search-results a[href$='/repositories/{repo_id}']")
    shot(browser, "03-result-focused")
    press(browser, Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "repository-name")))

    tab_to(browser, "#star-button")
    shot(browser, "04-star-focused")
    was = browser.find_element(By.ID, "star-button").get_attribute("aria-pressed")
    press(browser, Keys.SPACE)
    now = "false" if was == "true" else "true"
    wait.until(ec.text_to_be_present_in_element_attribute(
        (By.ID, "star-button"), "aria-pressed", now))
    shot(browser, "05-starred")


def test_every_page_is_labelled_and_reachable(stack: RunningStack, admin: dict[str, str],
                                             repo_id: int, browser: Any) -> None:
    found: dict[str, list[str]] = {}

    def check(path: str) -> None:
        browser.get(stack.url + path)
        problems = a11y_problems(browser)
        if problems:
            found[path] = problems

    for path in ("/login", "/signup", "/explore", "/search?q=a11y",
                 f"/repositories/{repo_id}"):
        check(path)
    browser.find_element(By.LINK_TEXT, "Sign in").click()
    browser.find_element(By.ID, "username").send_keys(admin["username"])
    browser.find_element(By.ID, "password").send_keys(admin["password"])
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 15).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Hello"))
    check(f"/repositories/{repo_id}")
    namespace = browser.find_element(By.CSS_SELECTOR, "#repository-name a")
    ns_path = "/" + namespace.get_attribute("href").split("/", 3)[3]
    for path in ("/", "/teams", "/namespaces", ns_path, f"{ns_path}/webhooks",
                 "/explore", f"/search?q={REPOSITORY}", f"/explain?repository={REPOSITORY}",
                 "/profile", "/admin/users", "/admin/registries", "/admin/sync",
                 "/admin/audit", "/admin/health"):
        check(path)
    shot(browser, "10-last-page-checked")
    assert not found, found


def test_checks_catch_an_unlabelled_field_and_a_clickable_div(
        stack: RunningStack, browser: Any) -> None:
    # The checks themselves must be able to fail: break a real page on purpose.
    browser.get(f"{stack.url}/login")
    assert a11y_problems(browser) == []
    browser.execute_script(
        "document.querySelector('label[for=username]').remove();"
        "const d = document.createElement('div'); d.id = 'fake-button';"
        "d.style.cursor = 'pointer'; d.textContent = 'Click me';"
        "document.querySelector('main').appendChild(d);"
        "document.getElementById('password').tabIndex = 3;")
    problems = a11y_problems(browser)
    assert "no label: input#username[name=username]" in problems
    assert "clickable but not focusable: div#fake-button" in problems
    assert "positive tabindex: input#password[name=password]" in problems
