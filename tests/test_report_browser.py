"""The report renders in a real headless browser (Chromium from Debian's packages,
installed by ``tools/install-chromium``): a screenshot of the page shows the title, the
headline cards and every embedded figure.

The figures are checked by colour: the river's blue is drawn only on the map, the
hotline's declaration blue only on the hotline figure, and so on; a page whose images
failed to decode shows none of them. A copy of the report with its images broken is the
control that proves the check can fail. Outside CI the test is skipped when no Chromium
is installed; in CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1200, 7000

# Colours each drawn in one figure only (sim.present.plots): RGB 0..255.
FIGURE_COLOURS = {
    "map (river)": (0x5D, 0xAD, 0xE2),
    "hotline (declarations delivered)": (0x2E, 0x86, 0xC1),
    "miss distance (horizontal histogram)": (0x4E, 0x78, 0x96),
    "miss distance (vertical histogram)": (0x93, 0xA9, 0xBF),
}


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "no Chromium: run tools/install-chromium (Debian's chromium package)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _screenshot(browser: str, page: Path, out: Path, profile: Path) -> np.ndarray:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
         f"--screenshot={out}", page.resolve().as_uri()],
        check=True, capture_output=True, timeout=120)
    image = imread(out)
    return np.round(image[..., :3] * 255).astype(int)


def _pixels_of(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 8) -> int:
    return int(np.sum(np.all(np.abs(image - np.array(rgb)) <= tolerance, axis=-1)))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("report")
    run = base / "run"
    assert main(["run", str(ROOT / "scenarios" / "euphrates_dec2017.yaml"), "--duration",
                 "2 d", "--out", str(run)]) == 0
    assert main(["report", str(run)]) == 0
    return run / "report.html"


def test_report_renders_with_every_figure_in_chromium(report, tmp_path):
    browser = _browser()
    image = _screenshot(browser, report, tmp_path / "shot.png", tmp_path / "profile")
    assert image.shape[:2] == (HEIGHT, WIDTH)
    # The title: dark text in the top band of the page, on white.
    top = image[:90]
    assert np.mean(np.all(top < 80, axis=-1)) > 0.002
    # The page is laid out in a column, not blank and not one solid colour.
    assert np.mean(np.any(image < 245, axis=-1)) > 0.05
    for what, rgb in FIGURE_COLOURS.items():
        assert _pixels_of(image, rgb) > 150, f"{what} not visible in the rendered page"

    # The control: the same page with its images broken shows none of those colours.
    broken = tmp_path / "broken.html"
    broken.write_text(re.sub(r"base64,[A-Za-z0-9+/=]{40}", "base64,AAAA", report.read_text()))
    control = _screenshot(browser, broken, tmp_path / "control.png", tmp_path / "profile2")
    for what, rgb in FIGURE_COLOURS.items():
        assert _pixels_of(control, rgb) < 20, f"{what}: the check cannot tell"
