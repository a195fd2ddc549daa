"""Browser scenario: a team and its namespace are created in the UI, an image
is pushed into it, the namespace is made public, and an anonymous visitor
finds it on Explore; the live search answers as one types (JavaScript under
the strict Content-Security-Policy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.support.browser import browser, shot
from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack
from tests.e2e.test_webui_browse import wait_for_repository

__all__ = ["browser"]  # the fixture this module's scenario uses


def sign_in(driver: Any, stack: RunningStack, user: dict[str, str]) -> None:
    """Fill in and submit the sign-in form."""
    driver.get(f"{stack.url}/login")
    driver.find_element(By.ID, "username").send_keys(user["username"])
    driver.find_element(By.ID, "password").send_keys(user["password"])
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 15).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Hello"))


def test_team_namespace_push_publish_and_explore(stack: RunningStack,
                                                 admin: dict[str, str],
                                                 workdir: Path, browser: Any) -> None:
    wait = WebDriverWait(browser, 15)
    sign_in(browser, stack, admin)

    browser.get(f"{stack.url}/teams")
    browser.find_element(By.ID, "team-name").send_keys("e2e-team")
    browser.find_element(By.ID, "create-team").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Team e2e-team"))

    browser.get(f"{stack.url}/namespaces")
    browser.find_element(By.ID, "ns-name").send_keys("e2e-ns")
    Select(browser.find_element(By.ID, "ns-team")).select_by_visible_text("e2e-team")
    browser.find_element(By.ID, "create-namespace").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "e2e-ns"))
    assert browser.find_element(By.ID, "visibility").text == "private"
    namespace_url = browser.current_url

    layout = workdir / "image"
    simple_image(layout, "v1", content="team-image")
    res = Skopeo(stack.host).push(layout, "v1", "e2e-ns/app",
                                  f"{admin['username']}:{admin['token']}")
    assert res.ok, res.err
    wait_for_repository(stack, admin, "e2e-ns/app")
    browser.get(namespace_url)
    assert "e2e-ns/app" in browser.page_source

    Select(browser.find_element(By.ID, "ns-visibility")).select_by_value("public")
    browser.find_element(By.ID, "change-visibility").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "visibility"), "public"))
    shot(browser, "10-namespace-public")

    browser.get(f"{stack.url}/search")
    box = browser.find_element(By.ID, "q")
    box.send_keys("e2e-n")
    # No submit: the results come from the live search script.
    wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, "#search-results a[href*='/namespaces/']")))
    assert "e2e-ns" in browser.find_element(By.ID, "search-results").text
    shot(browser, "11-live-search")

    browser.find_element(By.ID, "sign-out").click()
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    browser.get(f"{stack.url}/explore")
    assert "e2e-ns/app" in browser.page_source
    browser.find_element(By.LINK_TEXT, "e2e-ns/app").click()
    wait.until(ec.presence_of_element_located((By.ID, "tags")))
    assert not browser.find_elements(By.ID, "star-button")
    shot(browser, "12-anonymous-repository")
