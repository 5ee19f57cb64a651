"""Open a report in Debian's Chromium, driven by Selenium through Debian's chromedriver (no
browser or driver downloaded), and read what a person sees there."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# As root in a closed network: no sandbox, and none of Chromium's own connections out.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


@dataclass
class Seen:
    nodes: dict[str, set[str]] = field(default_factory=dict)
    """The ids of the drawn nodes that are displayed, by class (network, container, ...)."""
    failed_edges: list[str] = field(default_factory=list)
    """The text of every displayed edge drawn as a failed probe."""
    probe_edges: dict[str, int] = field(default_factory=dict)
    """How many displayed probe edges each state has (answered, unanswered, failed)."""
    changed_edges: list[tuple[str, str]] = field(default_factory=list)
    """Two records compared: each probe edge marked as changed, its mark (flipped, new, gone,
    underneath) and its text."""
    console: list[str] = field(default_factory=list)
    """The console's warnings and errors."""
    headings: list[str] = field(default_factory=list)


def look_at(report: Path, screenshot: Path, only: str | None = None) -> Seen:
    """What Chromium shows of ``report``; a screenshot of the whole page is saved, or of the
    first element the CSS selector ``only`` finds."""
    from selenium import webdriver  # the browser extra: pip install -e '.[browser]'
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists(), f"{binary} missing: apt-get install chromium chromium-driver"
    profile = tempfile.mkdtemp(prefix="dockernet-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(report.resolve().as_uri())
        seen = Seen()
        for node in driver.find_elements(By.CSS_SELECTOR, "svg g.node"):
            if node.is_displayed():
                kind = (node.get_attribute("class") or "").split()[-1]
                seen.nodes.setdefault(kind, set()).add(node.get_attribute("id") or "")
        for edge in driver.find_elements(By.CSS_SELECTOR, "svg g.edge.probe"):
            if edge.is_displayed():
                state = (edge.get_attribute("class") or "").split()[-1]
                seen.probe_edges[state] = seen.probe_edges.get(state, 0) + 1
                if state == "failed":
                    seen.failed_edges.append(edge.text)
                if state in ("flipped", "new", "gone", "underneath"):
                    seen.changed_edges.append((state, edge.text))
        seen.headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "section h2")]
        seen.console = [
            entry["message"]
            for entry in driver.get_log("browser")
            if entry["level"] in ("WARNING", "SEVERE")
        ]
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1400, max(1000, int(height)))
        if only is None:
            driver.save_screenshot(str(screenshot))
        else:
            driver.find_element(By.CSS_SELECTOR, only).screenshot(str(screenshot))
        return seen
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
