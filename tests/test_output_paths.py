"""Nothing is written outside the chosen output folder: names that come from data (metric
names, ids) are made safe before they become file names, and the folder writer refuses
any name that is not a plain file name."""

from __future__ import annotations

import pytest

from sim.io.write import OutputError, write_folder
from sim.present.sweepplots import file_stem


@pytest.mark.parametrize("name", ["../escape.txt", "a/b.txt", "/etc/passwd", "..", ".", "",
                                  "a\\b.txt", "nul\0.txt"])
def test_the_folder_writer_refuses_names_that_are_not_plain(tmp_path, name):
    out = tmp_path / "deep" / "out"
    with pytest.raises(OutputError, match="not a plain file name"):
        write_folder(out, {"fine.txt": "ok", name: "bad"}, force=False, kind="plot")
    assert not (tmp_path / "deep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("metric", ["../../etc/x", "a/b", "..", "", "x" * 500, "é/\\:*?"])
def test_metric_names_become_plain_file_names(tmp_path, metric):
    stem = file_stem(metric)
    write_folder(tmp_path / "plots", {f"{stem}.png": b"png"}, force=False, kind="plot")
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {".deconflict", f"{stem}.png"}
    assert [p.name for p in tmp_path.iterdir()] == ["plots"]
