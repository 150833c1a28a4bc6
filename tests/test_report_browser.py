"""Open the HTML coaching report in a real headless Chromium and check the rendered DOM.

Needs Debian's ``chromium`` (scripts/services.d/chromium.sh installs it). Without it the test
skips, except under CI=true where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from review_day import DAY, SCRIPT_TEXT, inspect_day

from qc.scoring.card import load_scorecard
from qc.store.database import open_store
from qc.supervise.report import write_report

pytestmark = pytest.mark.slow


def _chromium() -> str:
    for name in (os.environ.get("QC_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing under CI: scripts/services.d/chromium.sh should have installed it")
    pytest.skip("chromium is not installed: run `bash scripts/services.d/chromium.sh` (apt-get chromium)")


def _run(browser: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_highlights_and_escaped_script_in_chromium(tmp_path):
    browser = _chromium()
    inspect_day(tmp_path)
    store = open_store(tmp_path / "qc.sqlite")
    report = tmp_path / "report.html"
    try:
        write_report(store, report, DAY, DAY, load_scorecard())
    finally:
        store.close()
    dumped = _run(browser, tmp_path, "--dump-dom", report.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    # the two flagged replies are highlighted, the conflict and the impatience colour
    assert '<mark class="k-conflict" title="forbidden_phrase">爱买不买</mark>' in dom
    assert '<mark class="k-impatience" title="forbidden_phrase">没有</mark>' in dom
    assert dom.count('class="msg agent flagged"') == 2
    # the buyer's <script> is text on the page, and no script element exists in the DOM
    assert "&lt;script&gt;alert('x')&lt;/script&gt;有赠品吗" in dom
    assert "<script" not in dom.lower()
    assert SCRIPT_TEXT not in dom
    # charts are there as inline SVG
    assert dom.count("<svg") == 3
    shot = tmp_path / "report.png"
    taken = _run(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


def _violations(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Content Security Policy" in line]


def test_report_csp_allows_its_own_stylesheet_and_blocks_anything_injected(tmp_path):
    browser = _chromium()
    inspect_day(tmp_path)
    store = open_store(tmp_path / "qc.sqlite")
    report = tmp_path / "report.html"
    try:
        write_report(store, report, DAY, DAY, load_scorecard())
    finally:
        store.close()
    html = report.read_text(encoding="utf-8")
    assert '<meta http-equiv="Content-Security-Policy"' in html
    shown = _run(browser, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri())
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert _violations(shown.stderr) == []  # the report's own <style> is allowed by its hash
    assert 'class="msg agent flagged"' in shown.stdout
    # What escaping might one day miss: an inline script and an extra stylesheet are refused.
    tampered = tmp_path / "tampered.html"
    injected = "<style>body{color:red}</style><script>document.body.setAttribute('data-ran','yes')</script>"
    tampered.write_text(html.replace("</body>", injected + "</body>"), encoding="utf-8")
    blocked = _run(browser, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", tampered.as_uri())
    assert blocked.returncode == 0, blocked.stderr[-2000:]
    assert 'data-ran="yes"' not in blocked.stdout
    assert len(_violations(blocked.stderr)) >= 2
