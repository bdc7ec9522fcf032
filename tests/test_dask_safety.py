"""Safe defaults of the distributed engine: a local Dask cluster listens on loopback only
and serves no dashboard (nor any other HTTP page) unless asked for one."""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from sim.cli import main
from sim.study.executors import dask_client


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def listening_addresses() -> list[str]:
    """The addresses this process and its children listen on."""
    found = []
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        connections = getattr(process, "net_connections", None) or process.connections
        found += [c.laddr.ip for c in connections(kind="inet") if c.status == "LISTEN"]
    return found


@pytest.mark.slow
def test_a_local_cluster_listens_on_loopback_only_and_serves_no_pages(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    before = set(listening_addresses())
    with dask_client("local", 2) as client:
        info = client.scheduler_info()
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert len(info["workers"]) == 2
        assert all(w.startswith("tcp://127.0.0.1:") for w in info["workers"])
        opened = listening_addresses()
        assert len(opened) > len(before)  # the scheduler, the workers and their nannies
        assert set(opened) <= {"127.0.0.1"}, opened
        port = info["services"]["dashboard"]  # the HTTP server, with no routes
        for page in ("status", "info/main/workers.html", "metrics", "health"):
            assert status_of(f"http://127.0.0.1:{port}/{page}") == 404, page
        assert any(tmp_path.iterdir())  # the workers' scratch folder, while they run
    assert list(tmp_path.iterdir()) == []  # and nothing left behind


@pytest.mark.slow
def test_the_dashboard_is_served_when_asked_for():
    with dask_client("local", 1, dashboard="127.0.0.1:0") as client:
        port = client.scheduler_info()["services"]["dashboard"]
        assert status_of(f"http://127.0.0.1:{port}/status") == 200


def test_a_dashboard_is_only_for_a_local_cluster(tmp_path, capsys):
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "encounters.yaml"
    for extra in (["--dashboard", "127.0.0.1:8787"],
                  ["--dashboard", "127.0.0.1:8787", "--scheduler", "tcp://127.0.0.1:1"],
                  ["--dashboard", "nonsense", "--scheduler", "local"]):
        code = main(["sweep", str(scenario), "--grid", "hotline.loss=0,0.5", "--out",
                     str(tmp_path / "out"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and "--dashboard" in err, err
        assert not (tmp_path / "out").exists()
