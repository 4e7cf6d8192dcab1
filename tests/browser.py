"""Debian's Chromium driven by Playwright, as the browser tests and bench/bench_map.py use it.

Never a downloaded browser build (no ``playwright install``): scripts/setup.sh --dev
installs the ``chromium`` apt package. Each launch gets a fresh profile directory.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}


def launch(playwright, profile_dir: str, **options):
    """A persistent Chromium context in the fresh ``profile_dir`` (its own cache, cookies and storage)."""
    return playwright.chromium.launch_persistent_context(
        profile_dir, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT, **options
    )
