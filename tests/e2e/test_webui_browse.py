"""Browser scenario on the running stack: sign in, see a pushed repository,
star it, comment, create an application token, sign out — in headless
Chromium driven by Selenium, through the ingress like a user."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support.clients import Skopeo
from tests.e2e.support.oci import simple_image
from tests.e2e.support.stack import RunningStack

pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.support.browser import browser, shot

__all__ = ["browser"]  # the fixture this module's scenario uses


def wait_for_repository(stack: RunningStack, admin: dict[str, str], name: str,
                        timeout: float = 90) -> int:
    """The id of ``name`` once the registry's notification reached the catalog
    (the repository and its tag: embedded mode may apply them moments apart)."""
    auth = base64.b64encode(f"{admin['username']}:{admin['token']}".encode()).decode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = stack.api("GET", "/api/v1/repositories", params={"all": "true"},
                         headers={"Authorization": f"Basic {auth}"})
        if resp.ok:
            for repo in resp.json():
                if repo["full_name"] == name and repo.get("tags_count"):
                    return int(repo["id"])
        time.sleep(0.5)
    raise AssertionError(f"{name} never appeared in the catalog")


def test_sign_in_star_comment_token_sign_out(stack: RunningStack, admin: dict[str, str],
                                            workdir: Path, browser: Any) -> None:
    layout = workdir / "image"
    simple_image(layout, "v1", content="webui-e2e", layers=2, layer_size=40_000)
    pushed = Skopeo(stack.host).push(layout, "v1", "webui-demo",
                                     f"{admin['username']}:{admin['token']}")
    assert pushed.ok, pushed.err
    repo_id = wait_for_repository(stack, admin, "webui-demo")
    wait = WebDriverWait(browser, 15)

    browser.get(f"{stack.url}/login")
    browser.find_element(By.ID, "username").send_keys(admin["username"])
    browser.find_element(By.ID, "password").send_keys(admin["password"])
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Hello, admin"))
    assert "webui-demo" in browser.page_source
    shot(browser, "01-dashboard")

    browser.find_element(By.LINK_TEXT, "webui-demo").click()
    wait.until(ec.presence_of_element_located((By.ID, "tags")))
    tag_row = browser.find_element(By.CSS_SELECTOR, "#tags tbody tr").text
    assert "v1" in tag_row and "admin" in tag_row
    pull = browser.find_element(By.ID, "pull-command").get_attribute("value")
    assert pull == f"docker pull {stack.host}/webui-demo:v1"

    browser.find_element(By.ID, "star-button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "star-button"), "Unstar"))
    assert browser.find_element(By.ID, "star-count").text == "1 star"

    browser.find_element(By.ID, "comment-body").send_keys(
        "Looks **good** <script>alert(1)</script>")
    browser.find_element(By.ID, "add-comment").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".comment-body strong")))
    body = browser.find_element(By.CSS_SELECTOR, ".comment-body")
    assert "good" in body.text
    assert not browser.find_elements(By.CSS_SELECTOR, ".comment-body script")
    assert browser.current_url.startswith(f"{stack.url}/repositories/{repo_id}")
    shot(browser, "02-repository")

    browser.get(f"{stack.url}/profile")
    browser.find_element(By.ID, "token-application").send_keys("e2e-laptop")
    browser.find_element(By.ID, "create-token").click()
    token_box = wait.until(ec.presence_of_element_located((By.ID, "new-token")))
    plain = token_box.get_attribute("value")
    assert plain and len(plain) >= 16
    shot(browser, "03-token")
    creds = base64.b64encode(f"admin:{plain}".encode()).decode()
    assert stack.api("GET", "/api/v1/repositories",
                     headers={"Authorization": f"Basic {creds}"}).status_code == 200
    browser.get(f"{stack.url}/profile")
    assert plain not in browser.page_source

    browser.find_element(By.ID, "sign-out").click()
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    browser.get(f"{stack.url}/profile")
    assert "/login" in browser.current_url
    shot(browser, "04-signed-out")
