"""Headless Chromium for the browser scenarios: the ``browser`` fixture, the
screenshots each step keeps as a test artifact, and the accessibility checks
run on every page a scenario visits."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REPO_ROOT = Path(__file__).resolve().parents[3]
# Directories that received screenshots in this run (printed at the end).
USED: set[Path] = set()
_CLEARED: set[Path] = set()


def artifacts_dir() -> Path:
    """Where screenshots go: $BERTH_TEST_ARTIFACTS, else test-artifacts/webui."""
    configured = os.environ.get("BERTH_TEST_ARTIFACTS")
    return Path(configured) if configured else REPO_ROOT / "test-artifacts" / "webui"


def _scenario_dir(request: pytest.FixtureRequest) -> Path:
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    name = module.removeprefix("test_webui_").removeprefix("test_")
    path = artifacts_dir() / name
    if path not in _CLEARED and path.is_dir():  # an earlier run's shots would mislead
        for old in [*path.glob("*.png"), *path.glob("*.html")]:
            old.unlink()
    _CLEARED.add(path)
    return path


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Headless Chromium with a fresh profile; keeps the last page on teardown."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromedriver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    profile = tempfile.mkdtemp(prefix="berth-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage", "--window-size=1280,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.berth_artifacts = _scenario_dir(request)
    try:
        yield driver
    finally:
        last = f"last-{request.node.name}"
        shot(driver, last)  # the page as the scenario left it, failed or not
        (driver.berth_artifacts / f"{last}.html").write_text(driver.page_source)
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver: Any, name: str) -> Path:
    """Save a screenshot of the current page as ``<artifacts>/<name>.png``."""
    directory = Path(getattr(driver, "berth_artifacts", artifacts_dir()))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    driver.save_screenshot(str(path))
    root = artifacts_dir()
    USED.add(root if directory.is_relative_to(root) else directory)
    return path


# Runs in the page: every problem an assistive-technology or keyboard-only user
# would meet on it, as short strings (an empty list means none was found).
_A11Y_SCRIPT = r"""
const problems = [];
const shown = el => {
  const s = getComputedStyle(el);
  return s.display !== 'none' && s.visibility !== 'hidden' && el.getClientRects().length > 0;
};
const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  (el.name ? '[name=' + el.name + ']' : '');
const named = el => {
  if ((el.getAttribute('aria-label') || '').trim()) return true;
  const by = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  if (by.length && by.every(id => document.getElementById(id))) return true;
  return Array.from(el.labels || []).some(l => l.textContent.trim());
};
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden' || !shown(el)) continue;
  if (!named(el)) problems.push('no label: ' + describe(el));
}
for (const el of document.querySelectorAll('[tabindex]')) {
  if (el.tabIndex > 0) problems.push('positive tabindex: ' + describe(el));
}
const interactive = 'a[href], button, input, select, textarea, summary, label';
for (const el of document.querySelectorAll(interactive)) {
  if (!shown(el) || el.matches('label, input[type=hidden]')) continue;
  if (el.tabIndex < 0 && !el.disabled) problems.push('not focusable: ' + describe(el));
  if (el.matches('a, button') && !(el.textContent.trim() || named(el)))
    problems.push('no accessible name: ' + describe(el));
}
for (const el of document.querySelectorAll('body *')) {
  if (el.matches(interactive) || el.closest(interactive) || !shown(el)) continue;
  const clickable = el.hasAttribute('onclick') || getComputedStyle(el).cursor === 'pointer';
  if (clickable && !(el.getAttribute('role') && el.tabIndex >= 0))
    problems.push('clickable but not focusable: ' + describe(el));
}
const skip = document.querySelector('a.skip[href^="#"]');
if (!skip) problems.push('no skip link');
else if (!document.getElementById(skip.getAttribute('href').slice(1)))
  problems.push('skip link target missing');
if (!document.documentElement.lang) problems.push('html has no lang');
if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
return problems;
"""


def a11y_problems(driver: Any) -> list[str]:
    """The accessibility problems found on the current page."""
    return list(driver.execute_script(_A11Y_SCRIPT))


def assert_accessible(driver: Any) -> None:
    """Fail with the page's address when the current page has a problem."""
    problems = a11y_problems(driver)
    assert not problems, f"{driver.current_url}: {problems}"


def focus_visible(driver: Any) -> bool:
    """True when the focused element draws a focus indicator."""
    return bool(driver.execute_script(
        "const el = document.activeElement; if (!el || el === document.body) return false;"
        "const s = getComputedStyle(el);"
        "return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)"
        " || s.boxShadow !== 'none';"))
