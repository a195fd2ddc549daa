"""The whole life of a new Berth, in the browser: the first visitor signs up
and becomes its administrator, creates a team and a namespace, makes an
application token that podman pushes with, watches the tag arrive, stars and
comments, publishes the namespace, signs out, and finds the image on Explore
as an anonymous visitor. Every page is checked for accessibility and every
step leaves a screenshot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.support.browser import assert_accessible, browser, shot
from tests.e2e.support.clients import Podman
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack

__all__ = ["browser"]  # the fixture this module's scenario uses

USER = {"username": "captain", "email": "captain@example.test",
        "password": "first-mate-on-deck"}


@pytest.fixture(scope="module")
def fresh_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack nobody has signed up to yet: the browser creates its first user."""
    s = RunningStack(tmp_path_factory.mktemp("berth-first") / "home", env={
        "BERTH_SIGNUP_ENABLED": "true", "BERTH_FIRST_USER_ADMIN": "true",
        "BERTH_ANONYMOUS_BROWSING": "true", "BERTH_LOG_LEVEL": "WARNING"})
    s.start()
    yield s
    s.stop()


class Steps:
    """Numbered screenshots, each taken after the page passed the a11y checks."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.number = 0

    def done(self, name: str) -> None:
        """Check the current page and keep it as ``NN-name.png``."""
        self.number += 1
        assert_accessible(self.driver)
        shot(self.driver, f"{self.number:02d}-{name}")


def _expect_heading(driver: Any, text: str, tries: int = 3) -> None:
    """Wait for a page whose <h1> holds ``text``; a page that says a service is
    briefly unavailable (a loaded machine) is fetched again, as its text asks."""
    def settled(d: Any) -> str | None:
        heading = d.find_element(By.TAG_NAME, "h1").text
        return heading if text in heading or "Service unavailable" in heading else None

    for _ in range(tries):
        wait = WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException])
        if text in wait.until(settled):
            return
        time.sleep(2)
        driver.get(driver.current_url)
    raise AssertionError(f"{driver.current_url} stayed unavailable")


def _reload_until(driver: Any, locator: tuple[str, str], timeout: float = 60) -> Any:
    """Reload the page until ``locator`` shows up (the push reaches the catalog
    through the registry's notification, moments after podman returns)."""
    deadline = time.monotonic() + timeout
    while True:
        found = driver.find_elements(*locator)
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} never appeared on {driver.current_url}")
        time.sleep(0.5)
        driver.refresh()


def test_first_admin_signs_up_publishes_and_anonymous_finds_it(
        fresh_stack: RunningStack, workdir: Path, browser: Any) -> None:
    stack, steps = fresh_stack, Steps(browser)
    wait = WebDriverWait(browser, 20)

    # Sign-up: the first account of this Berth, made in the form.
    browser.get(f"{stack.url}/signup")
    steps.done("sign-up-form")
    for field in ("username", "email", "password"):
        browser.find_element(By.ID, field).send_keys(USER[field])
    browser.find_element(By.ID, "password_confirmation").send_keys(USER["password"])
    browser.find_element(By.ID, "sign-up").click()
    _expect_heading(browser, "Hello, captain")
    assert browser.find_elements(By.LINK_TEXT, "Admin"), "the first user is no admin"
    steps.done("signed-up-dashboard")

    browser.get(f"{stack.url}/teams")
    browser.find_element(By.ID, "team-name").send_keys("crew")
    browser.find_element(By.ID, "create-team").click()
    _expect_heading(browser, "Team crew")
    steps.done("team-created")

    browser.get(f"{stack.url}/namespaces")
    steps.done("namespaces")
    browser.find_element(By.ID, "ns-name").send_keys("harbour")
    Select(browser.find_element(By.ID, "ns-team")).select_by_visible_text("crew")
    browser.find_element(By.ID, "create-namespace").click()
    _expect_heading(browser, "harbour")
    assert browser.find_element(By.ID, "visibility").text == "private"
    namespace_url = browser.current_url
    steps.done("namespace-created")

    browser.get(f"{stack.url}/profile")
    browser.find_element(By.ID, "token-application").send_keys("podman")
    browser.find_element(By.ID, "create-token").click()
    token = wait.until(ec.presence_of_element_located((By.ID, "new-token")))
    plain = token.get_attribute("value")
    assert plain and len(plain) >= 16
    steps.done("token-created")

    # Outside the browser: podman signs in with the token and pushes.
    layout = workdir / "image"
    simple_image(layout, "v1", content="first-admin", layers=2, layer_size=20_000)
    podman = Podman(stack.host, workdir / "podman")
    login = podman.login(USER["username"], plain)
    assert login.ok, login.err
    loaded = podman.pull(f"oci:{layout}:v1")
    assert loaded.ok, loaded.err
    pushed = podman.push(loaded.out.strip().splitlines()[-1],
                         f"{stack.host}/harbour/lighthouse:v1")
    assert pushed.ok, pushed.err

    browser.get(namespace_url)
    _reload_until(browser, (By.LINK_TEXT, "harbour/lighthouse")).click()
    wait.until(ec.presence_of_element_located((By.ID, "repository-name")))
    tag_row = _reload_until(browser, (By.CSS_SELECTOR, "#tags tbody tr")).text
    assert "v1" in tag_row and "captain" in tag_row
    repository_url = browser.current_url
    steps.done("tag-arrived")

    browser.find_element(By.ID, "star-button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "star-button"), "Unstar"))
    assert browser.find_element(By.ID, "star-count").text == "1 star"
    steps.done("starred")

    browser.find_element(By.ID, "comment-body").send_keys("Ship it *now*")
    browser.find_element(By.ID, "add-comment").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".comment-body em")))
    assert "Ship it" in browser.find_element(By.CSS_SELECTOR, ".comment-body").text
    steps.done("commented")

    browser.get(namespace_url)
    Select(browser.find_element(By.ID, "ns-visibility")).select_by_value("public")
    browser.find_element(By.ID, "change-visibility").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "visibility"), "public"))
    steps.done("namespace-public")

    browser.find_element(By.ID, "sign-out").click()
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    steps.done("signed-out")

    browser.get(f"{stack.url}/explore")
    link = browser.find_element(By.LINK_TEXT, "harbour/lighthouse")
    steps.done("explore-anonymous")
    link.click()
    wait.until(ec.presence_of_element_located((By.ID, "tags")))
    assert browser.current_url == repository_url
    assert not browser.find_elements(By.ID, "star-button")
    assert browser.find_element(By.ID, "star-count").text == "1 star"
    assert "Ship it" in browser.find_element(By.ID, "comments").text
    steps.done("repository-anonymous")
