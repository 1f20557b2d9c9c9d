"""Print the report to PDF with a headless Chromium (the browser the report tests use).

The page's print stylesheet does the layout (no navigation bar, folds hidden, a page per
pillar); Chromium runs the page's script first so the charts are drawn. No Chromium, no PDF:
:func:`find_chromium` says how to get one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from smallcaps.errors import ConfigError
from smallcaps.report.html import check_out, render_html
from smallcaps.report.model import Report

#: Executables tried in order (Debian's ``chromium``, Ubuntu's, Google's); SMALLCAPS_CHROMIUM
#: names one explicitly.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
    "--virtual-time-budget=60000",  # let the page's script draw every chart before printing
)


def find_chromium(env: dict[str, str] | None = None) -> Path:
    """The Chromium to print with: ``SMALLCAPS_CHROMIUM``, else the first on ``PATH``.

    Raises
    ------
    ConfigError
        None found (or ``SMALLCAPS_CHROMIUM`` names no executable); says how to install one.
    """
    env = dict(os.environ if env is None else env)
    named = env.get("SMALLCAPS_CHROMIUM")
    if named:
        found = shutil.which(named, path=env.get("PATH"))
        if found is None:
            raise ConfigError(f"SMALLCAPS_CHROMIUM={named!r}: no such executable")
        return Path(found)
    for name in CANDIDATES:
        found = shutil.which(name, path=env.get("PATH"))
        if found is not None:
            return Path(found)
    raise ConfigError(
        "--format pdf needs a Chromium and none was found on PATH (tried "
        + ", ".join(CANDIDATES)
        + "); install one (Debian/Ubuntu: apt-get install chromium) or set SMALLCAPS_CHROMIUM, "
        "or write HTML and print it from a browser"
    )


def write_pdf(
    report: Report, path: Path, *, chromium: Path | None = None, timeout: float = 180.0
) -> Path:
    """Render the page and print it to ``path`` with headless Chromium; returns the path.

    Raises
    ------
    ConfigError
        No Chromium (see :func:`find_chromium`), or it failed or wrote no PDF (its last error
        line is in the message).
    """
    path = check_out(path)
    exe = chromium if chromium is not None else find_chromium()
    with tempfile.TemporaryDirectory(prefix="smallcaps-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render_html(report), encoding="utf-8")
        out = Path(tmp) / "report.pdf"
        cmd = [str(exe), *FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
               page.as_uri()]  # fmt: skip
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"{exe}: could not print the report to PDF: {exc}") from None
        if not out.is_file() or out.stat().st_size == 0:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConfigError(f"{exe}: printed no PDF (exit {run.returncode}): {last[:200]}")
        shutil.copyfile(out, path)
    return path
