"""Test configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_detect_properties.py`` runs the
property tests with 20x the examples (a longer campaign, on demand).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", print_blob=True, max_examples=80)
settings.register_profile("thorough", print_blob=True, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser):
    # Rewrites the golden run folders (tests/test_golden.py); those tests then fail.
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/goldens/ from the current code (the tests then fail)")
