"""Install a rule plugin for a test the way pip does: a module and a ``.dist-info`` folder
with its ``entry_points.txt``, in a folder put on ``sys.path`` (and on ``PYTHONPATH`` for
the subprocesses a test starts), so that discovery goes through the real entry-point
machinery (``importlib.metadata``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sim.model import ruletypes


def write_plugin(site: Path, dist: str, version: str, modules: Mapping[str, str],
                 entry_points: Mapping[str, str]) -> None:
    """Write modules (name -> source) and the distribution ``dist`` declaring
    ``entry_points`` (type name -> module:attribute) into ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
                                   encoding="utf-8")
    lines = [f"[{ruletypes.ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextmanager
def plugins_on_path(site: Path) -> Iterator[None]:
    """``site`` on sys.path and PYTHONPATH while inside, the discovery caches cleared on the
    way in and out; the plugin modules are forgotten on the way out."""
    before = set(sys.modules)
    old_path, old_env = list(sys.path), os.environ.get("PYTHONPATH")
    sys.path.insert(0, str(site))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), old_env) if p)
    ruletypes.clear_cache()
    try:
        yield
    finally:
        sys.path[:] = old_path
        if old_env is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_env
        for name in set(sys.modules) - before:
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(site)):
                del sys.modules[name]
        ruletypes.clear_cache()
