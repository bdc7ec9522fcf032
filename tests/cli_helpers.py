"""Assertions shared by the tests that drive the command line."""

from __future__ import annotations

import pytest


def refused(capsys: pytest.CaptureFixture[str], code: int, *phrases: str) -> str:
    """Exit 2 with a message holding every phrase, no traceback, not an internal error;
    return the message."""
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    for phrase in phrases:
        assert phrase in err, err
    return err
