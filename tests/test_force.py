"""``--force`` replaces only what deconflict wrote (its folders hold a ``.deconflict``
marker; its report pages and calibrated scenarios say so in their text), and no hint ever
suggests a command that would delete something else (issue 23)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.io.write import MARKER, product_kind

ROOT = Path(__file__).resolve().parent.parent
ENCOUNTERS = ROOT / "scenarios" / "encounters.yaml"


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def foreign(folder: Path) -> dict[str, str]:
    """A folder of the user's own: a scenario and notes."""
    folder.mkdir(parents=True)
    files = {"mine.yaml": ENCOUNTERS.read_text(encoding="utf-8"), "notes.txt": "keep me"}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return files


def unchanged(folder: Path, files: dict[str, str]) -> bool:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()} == files


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "enc"
    assert main(["run", str(ENCOUNTERS), "--out", str(out)]) == 0
    shutil.copytree(out, out.parent / "enc-copy")  # compare needs two run folders
    return out


def other(run_dir: Path) -> Path:
    return run_dir.parent / "enc-copy"


def test_every_folder_deconflict_writes_is_marked_with_its_kind(run_dir, tmp_path, capsys):
    assert product_kind(run_dir) == "run"
    assert main(["plot", str(run_dir), "--out", str(tmp_path / "figs")]) == 0
    assert product_kind(tmp_path / "figs") == "plot"
    assert main(["compare", str(run_dir), str(other(run_dir)), "--out",
                 str(tmp_path / "cmp")]) == 0
    assert product_kind(tmp_path / "cmp") == "compare"
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / MARKER).write_text("run folder, trust me\n", encoding="utf-8")
    assert product_kind(tmp_path / "fake") is None  # only the product's exact text counts
    assert product_kind(tmp_path / "nowhere") is None


@pytest.mark.parametrize("command", ["run", "plot", "compare"])
def test_force_never_replaces_a_folder_deconflict_did_not_write(command, run_dir, tmp_path,
                                                                capsys):
    out = tmp_path / "mine"
    files = foreign(out)
    args = {"run": ["run", ENCOUNTERS], "plot": ["plot", run_dir],
            "compare": ["compare", run_dir, other(run_dir)]}[command]
    for force in ([], ["--force"]):
        code, err = cli(capsys, *args, "--out", out, *force)
        assert code == 2, err
        assert "Traceback" not in err
        assert "mine.yaml" in err and "notes.txt" in err and "did not write it" in err
        assert "use --force" not in err
        assert unchanged(out, files)


@pytest.mark.parametrize("command", ["run", "plot", "compare"])
def test_force_replaces_a_folder_deconflict_wrote(command, run_dir, tmp_path, capsys):
    out = tmp_path / "again"
    args = {"run": ["run", ENCOUNTERS], "plot": ["plot", run_dir],
            "compare": ["compare", run_dir, other(run_dir)]}[command]
    assert cli(capsys, *args, "--out", out)[0] == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "stale.txt").write_text("old", encoding="utf-8")
    code, err = cli(capsys, *args, "--out", out)
    assert code == 2 and f"holds a {product_kind(out)} folder written by deconflict" in err
    assert "use --force" in err
    assert cli(capsys, *args, "--out", out, "--force")[0] == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_a_run_folder_of_an_older_version_is_not_replaced_and_says_what_to_do(run_dir,
                                                                             tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / MARKER).unlink()  # as a version before the marker wrote it
    code, err = cli(capsys, "run", ENCOUNTERS, "--out", old, "--force")
    assert code == 2 and "delete the folder yourself" in err and "use --force" not in err
    assert (old / "events.csv").read_bytes() == (run_dir / "events.csv").read_bytes()


def test_the_current_folder_is_refused_clearly(run_dir, tmp_path, capsys, monkeypatch):
    here = tmp_path / "here"
    shutil.copytree(run_dir, here)
    monkeypatch.chdir(here)
    code, err = cli(capsys, "run", ENCOUNTERS, "--out", ".", "--force")
    assert code == 2 and "is the current folder" in err and "busy" not in err
    assert sorted(p.name for p in here.iterdir()) == sorted(p.name for p in run_dir.iterdir())


@pytest.mark.parametrize("command", ["report", "calibrate"])
def test_force_replaces_only_a_file_deconflict_wrote(command, run_dir, tmp_path, capsys):
    out = tmp_path / ("page.html" if command == "report" else "calibrated.yaml")
    out.write_text("my own file", encoding="utf-8")
    args = (["report", run_dir] if command == "report" else
            ["calibrate", ENCOUNTERS, "--rule", "loss_of_separation", "--party", "russia",
             "--per-day", "1", "--replications", "1", "--workers", "1"])
    for force in ([], ["--force"]):
        code, err = cli(capsys, *args, "--out", out, *force)
        assert code == 2 and "not written by deconflict" in err, err
        assert out.read_text(encoding="utf-8") == "my own file"


def test_the_library_names_a_file_target_a_file(run_dir, tmp_path, capsys):
    from sim.io.write import OutputError, check_file_target

    mine, page = tmp_path / "mine.html", tmp_path / "page.html"
    mine.write_text("my own file", encoding="utf-8")
    assert cli(capsys, "report", run_dir, "--out", page)[0] == 0
    for out, force in ((mine, True), (page, False)):
        with pytest.raises(OutputError) as caught:
            check_file_target(out, force)
        assert str(caught.value).endswith("choose another out file"), caught.value


def test_a_report_page_deconflict_wrote_is_replaced_with_force(run_dir, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert cli(capsys, "report", run_dir, "--out", out)[0] == 0
    first = out.read_bytes()
    code, err = cli(capsys, "report", run_dir, "--out", out)
    assert code == 2 and "use --force" in err
    out.write_bytes(first.replace(b"<h1>", b"<h1>stale ", 1))
    assert cli(capsys, "report", run_dir, "--out", out, "--force")[0] == 0
    assert out.read_bytes() == first


# ---------------------------------------------------------------------------- the hints


def test_plot_of_a_users_folder_suggests_nothing_that_deletes_it(tmp_path, capsys):
    # The report: following this hint deleted the scenario and the notes.
    folder = tmp_path / "work"
    files = foreign(folder)
    for command in ("plot", "report"):
        code, err = cli(capsys, command, folder)
        assert code == 2 and "--force" not in err, err
        assert "NEW_FOLDER" in err
    assert unchanged(folder, files)


def test_report_of_a_sweep_folder_suggests_nothing_that_deletes_it(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    code = main(["sweep", str(ENCOUNTERS), "--grid", "hotline.loss=0,0.5", "--replications",
                 "1", "--out", str(sweep), "--workers", "1"])
    assert code == 0
    before = {p.name: p.read_bytes() for p in sweep.iterdir()}
    code, err = cli(capsys, "report", sweep)
    assert code == 2 and "--force" not in err and "sweep folder" in err, err
    assert {p.name: p.read_bytes() for p in sweep.iterdir()} == before


def test_a_run_folder_missing_a_file_suggests_force_and_following_it_works(run_dir, tmp_path,
                                                                           capsys):
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "events.csv").unlink()
    code, err = cli(capsys, "plot", broken)
    assert code == 2 and f"--out {broken} --force" in err, err
    assert cli(capsys, "run", ENCOUNTERS, "--out", broken, "--force")[0] == 0
    assert (broken / "events.csv").read_bytes() == (run_dir / "events.csv").read_bytes()
