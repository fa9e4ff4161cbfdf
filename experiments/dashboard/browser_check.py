"""Start the dashboard on a free localhost port and drive it in headless chromium.

Used by ``tests/test_dashboard.py`` (and runnable by hand):
``python -m experiments.dashboard.browser_check --screenshot shot.png`` prints a
JSON report. It never downloads a browser: it drives Debian's ``chromium``
through playwright's ``executable_path``. Run it inside ``unshare -n`` (with
``ip link set lo up``) to prove the page needs no network beyond localhost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from experiments.dashboard.cli import server_command, server_env

__all__ = [
    "CHROMIUM_ARGS",
    "drive",
    "free_port",
    "http_status",
    "page_assets",
    "serve",
]

#: Chromium flags: no sandbox (root), no GPU, no background traffic to Google.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_ASSET = re.compile(r"<(?:script|img|link)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"[^>]*>", re.I)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_status(url: str, timeout_s: float = 10.0) -> int:
    """HTTP status of a GET (the code of an HTTP error, 0 if the connection fails)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (urllib.error.URLError, OSError):
        return 0


@contextlib.contextmanager
def serve(port: int, log: Path, timeout_s: float = 120.0) -> Iterator[str]:
    """Run the dashboard server until the block ends; yield its URL once it answers.

    Args:
        port: TCP port on 127.0.0.1.
        log: File receiving the server's output.
        timeout_s: Longest wait for the first 200.

    Yields:
        ``http://127.0.0.1:PORT/``.

    Raises:
        RuntimeError: If the server exits or does not answer in time.
    """
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            server_command("127.0.0.1", port),
            env=server_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout_s
            while http_status(url, 2.0) != 200:
                if proc.poll() is not None:
                    raise RuntimeError(f"dashboard exited ({proc.returncode}): {log.read_text()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dashboard not answering after {timeout_s} s")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def page_assets(url: str, html: str) -> list[str]:
    """Absolute URLs of the scripts, stylesheets, icons and images a page names.

    Args:
        url: The page's URL (relative references resolve against it).
        html: The page's HTML.

    Returns:
        Sorted unique URLs (``<a href>`` links are not assets and are left out).
    """
    return sorted({urljoin(url, m.group(1)) for m in _ASSET.finditer(html)})


def _last_png(page: Any, css: str) -> str:
    """The ``src`` of the first image under ``.css``, once one is attached.

    Solara replaces a figure's ``img`` element when it re-renders, so an element
    found by an earlier wait may be gone a moment later; a locator waits for the
    current one (``page.eval_on_selector`` fails if none is attached right then).
    """
    return str(page.locator(f".{css} img").first.evaluate("el => el.src"))


def drive(url: str, screenshot: Path, steps: int = 3, timeout_s: float = 90.0) -> dict[str, Any]:
    """Open the dashboard in headless chromium, step it and record what happened.

    Args:
        url: The dashboard's URL.
        screenshot: PNG written after the steps.
        steps: Step clicks.
        timeout_s: Longest wait for the page and for each step.

    Returns:
        ``day_before``/``day_after`` (the counter's text), ``plot_changed``,
        ``requests`` (every URL the page asked for), ``failed`` (responses ≥ 400 and
        failed requests) and ``controls`` (labels of the parameter controls seen).
    """
    from playwright.sync_api import sync_playwright

    exe = os.environ.get("PARKSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    requests: list[str] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        # a fresh profile (--user-data-dir) per run
        browser = pw.chromium.launch_persistent_context(
            profile,
            executable_path=exe,
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": 1600, "height": 1150},
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on(
                "response",
                lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
            ms = timeout_s * 1000
            page.goto(url, timeout=ms)
            page.wait_for_selector(".parksim-day", timeout=ms)
            page.wait_for_selector(".parksim-park-load img", timeout=ms)
            page.get_by_role("button", name="Step").wait_for(timeout=ms)
            controls = [
                label
                for label in ("Phase", "Park", "Seed", "Days", "Information platform on")
                if page.get_by_text(label, exact=True).count() > 0
            ]
            day_before = page.inner_text(".parksim-day")
            plot_before = _last_png(page, "parksim-park-load")
            for i in range(1, steps + 1):
                page.get_by_role("button", name="Step").click()
                page.wait_for_function(
                    "n => document.querySelector('.parksim-day')"
                    ".innerText.startsWith('Day ' + n + ' ')",
                    arg=i,
                    timeout=ms,
                )
            page.wait_for_function(
                "old => { const i = document.querySelector('.parksim-park-load img');"
                " return i && i.src !== old; }",
                arg=plot_before,
                timeout=ms,
            )
            day_after = page.inner_text(".parksim-day")
            plot_after = _last_png(page, "parksim-park-load")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {
        "day_before": day_before,
        "day_after": day_after,
        "plot_changed": plot_before != plot_after,
        "requests": requests,
        "failed": failed,
        "controls": controls,
    }


def gallery(url: str, out_dir: Path, steps: int = 10, timeout_s: float = 120.0) -> list[Path]:
    """Screenshots of the three pages after ``steps`` days (the README's figures).

    Args:
        url: The dashboard's URL.
        out_dir: Directory of ``dashboard.png``, ``dashboard_user.png``, ``dashboard_compare.png``.
        steps: Days simulated before the screenshots.
        timeout_s: Longest wait for each page.

    Returns:
        The files written.
    """
    from playwright.sync_api import sync_playwright

    exe = os.environ.get("PARKSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / f"dashboard{s}.png" for s in ("", "_user", "_compare")]
    ms = timeout_s * 1000
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            profile,
            executable_path=exe,
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport={"width": 1600, "height": 1150},
        )
        try:
            page = browser.new_page()
            page.goto(url, timeout=ms)
            page.wait_for_selector(".parksim-park-load img", timeout=ms)
            for i in range(1, steps + 1):
                page.get_by_role("button", name="Step").click()
                page.wait_for_function(
                    "n => document.querySelector('.parksim-day')"
                    ".innerText.startsWith('Day ' + n + ' ')",
                    arg=i,
                    timeout=ms,
                )
            time.sleep(2)
            page.screenshot(path=str(files[0]), full_page=True)
            user_figures = ("user-load", "peak-valley", "efficiency", "bills")
            for tab, names, file in (
                ("Page 1", user_figures, files[1]),
                ("Page 2", ("compare",), files[2]),
            ):
                page.get_by_role("tab", name=tab).click()
                for name in names:
                    page.wait_for_selector(f".parksim-{name} img", timeout=ms)
                time.sleep(4)
                page.screenshot(path=str(file), full_page=True)
        finally:
            browser.close()
    return files


def main() -> None:
    """Serve on a free port, drive the page, print the JSON report (or take the gallery)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, help="drive the page; PNG written here")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--gallery", type=Path, help="write the three pages' PNGs here")
    parser.add_argument("--runs", type=Path, help="collected runs for the comparison page")
    args = parser.parse_args()
    if args.runs is not None:
        os.environ["PARKSIM_DASHBOARD_RUNS"] = str(args.runs.resolve())
    if args.screenshot is not None:
        log = args.screenshot.with_suffix(".server.log")
    else:
        log = Path(tempfile.gettempdir()) / "parksim-dashboard-gallery.server.log"
    with serve(free_port(), log) as url:
        if args.gallery is not None:
            report: dict[str, Any] = {
                "files": [str(f) for f in gallery(url, args.gallery, args.steps)]
            }
        else:
            report = drive(url, args.screenshot, steps=args.steps)
    report["url"] = url
    print(json.dumps(report))


if __name__ == "__main__":
    main()
