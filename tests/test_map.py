"""The map's country borders and labels: the shipped Natural Earth data covers every
shipped scenario and lies where the borders are; the map draws the borders in view; the
names of mission areas and zone centres are never crowded out; zone ids are written."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from shapely import LineString, Point

from sim.cli import main
from sim.io.read import load_run_folder
from sim.model.geography import build_geography
from sim.model.places import builtin_borders, builtin_places
from sim.model.scenario import load_scenario
from sim.present import plots
from sim.present.map_figure import key_places

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "euphrates_dec2017.yaml"
ENCOUNTERS = ROOT / "scenarios" / "encounters.yaml"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def gids(ax, prefix: str) -> list[str]:
    """The gids of the lines and texts drawn on ``ax`` that start with ``prefix``."""
    return [a.get_gid() for a in [*ax.lines, *ax.texts]
            if (a.get_gid() or "").startswith(prefix)]


def border(a: str, b: str) -> LineString:
    """The shipped border between two countries, as one line through all its pieces."""
    pieces = [line.lonlat for line in builtin_borders()[1]
              if line.kind == "border" and set(line.countries) == {a, b}]
    assert pieces, f"no {a}-{b} border"
    return LineString(np.concatenate(pieces))


# ---------------------------------------------------------------------------- the data


def test_border_data_covers_every_place_and_shipped_scenario():
    (lon0, lat0, lon1, lat1), lines = builtin_borders()
    for name, (lon, lat) in builtin_places().items():  # the bases and mission areas too
        assert lon0 < lon < lon1 and lat0 < lat < lat1, name
    for path in SHIPPED:
        scenario = load_scenario(path)
        geography = build_geography(scenario)
        frame = geography.frame
        assert lon0 < frame.center_lon < lon1 and lat0 < frame.center_lat < lat1, path.name
        if geography.corridor_shape is not None:
            x0, y0, x1, y1 = geography.corridor_shape.bounds
            lon, lat = frame.to_lonlat(np.array([x0, x1]), np.array([y0, y1]))
            assert lon0 < min(lon) and max(lon) < lon1 and lat0 < min(lat) and max(lat) < lat1
    for line in lines:  # clipped to the box it claims
        assert line.lonlat[:, 0].min() >= lon0 and line.lonlat[:, 0].max() <= lon1
        assert line.lonlat[:, 1].min() >= lat0 and line.lonlat[:, 1].max() <= lat1
        assert line.kind in ("border", "coast") and len(line.lonlat) >= 2


def test_borders_lie_where_the_border_towns_are():
    places = builtin_places()
    # Abu Kamal (Syria) and Al Qaim (Iraq) face each other across the border; Jarabulus is
    # a Syrian border town on the Turkish border, 2-3 km from it.
    crossing = Point(np.mean([places["abu_kamal"], places["al_qaim"]], axis=0))
    assert border("Iraq", "Syria").distance(crossing) < 0.1
    assert border("Syria", "Turkey").distance(Point(places["jarabulus"])) < 0.05
    # The Syria-Iraq border runs from the Turkish tripoint (about 37.1 N) to Jordan's
    # (about 33.4 N).
    lat = np.asarray(border("Iraq", "Syria").coords)[:, 1]
    assert 36.9 < lat.max() < 37.4 and 33.2 < lat.min() < 33.6


def test_the_map_draws_the_borders_in_view():
    scenario = load_scenario(BASELINE)
    geography = build_geography(scenario)
    ax = Figure().add_subplot()
    plots.corridor_map(ax, geography, scenario.rules, [])
    drawn = gids(ax, "border:")
    assert {"border:Syria|Turkey", "border:Iraq|Syria"} <= set(drawn)
    assert "border:Iraq|Jordan" not in drawn  # far south of the corridor's view
    lon0, lon1 = ax.get_xlim()
    lat0, lat1 = ax.get_ylim()
    for line in ax.lines:
        if (line.get_gid() or "").startswith(("border:", "coast:")):
            lon, lat = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            assert lon.max() >= lon0 and lon.min() <= lon1
            assert lat.max() >= lat0 and lat.min() <= lat1
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert "country borders (Natural Earth)" in labels


# ---------------------------------------------------------------------------- labels


def test_key_places_are_the_mission_areas_and_zone_centres():
    scenario = load_scenario(BASELINE)
    missions = {m.area.name for p in scenario.parties.values() for m in p.sorties.missions}
    assert missions == {"hajin", "abu_kamal", "mayadin", "deir_ez_zor"}
    assert key_places(scenario) == missions | {"hajin", "mayadin"}  # the zones' centres


def _labels(places, keep=()):
    scenario = load_scenario(BASELINE)
    ax = Figure().add_subplot()
    plots.corridor_map(ax, build_geography(scenario), scenario.rules, [], places=places,
                       keep=keep)
    return ax, {a.get_gid(): a for a in ax.texts if (a.get_gid() or "").startswith("place:")}


def test_a_crowded_mission_area_keeps_its_name():
    town = builtin_places()["abu_kamal"]  # a mission area, at no zone's centre
    crowd = {"aaa_village": (town[0] + 0.002, town[1] + 0.001), "abu_kamal": town}
    # Not kept, the first name in order wins the spot and Abu Kamal is left out...
    assert set(_labels(crowd)[1]) == {"place:aaa_village"}
    # ...kept (a mission area), Abu Kamal is written and the village gives way.
    assert set(_labels(crowd, keep={"abu_kamal"})[1]) == {"place:abu_kamal"}


def test_a_zone_centre_keeps_its_name_unasked():
    hajin = builtin_places()["hajin"]  # the centre of the baseline's zone hajin_strikes
    crowd = {"aaa_village": (hajin[0] + 0.002, hajin[1] + 0.001), "hajin": hajin}
    assert set(_labels(crowd)[1]) == {"place:hajin"}


def test_kept_names_that_crowd_each_other_are_all_written_on_different_sides():
    hajin = builtin_places()["hajin"]
    crowd = {"hajin": hajin, "a": (hajin[0] + 0.01, hajin[1]), "b": (hajin[0], hajin[1] + 0.01),
             "c": (hajin[0] + 0.01, hajin[1] + 0.01), "d": (hajin[0] - 0.01, hajin[1])}
    ax, written = _labels(crowd, keep=set(crowd))
    assert set(written) == {f"place:{n}" for n in crowd}
    sides = {(t.get_horizontalalignment(), t.get_verticalalignment()) for t in written.values()}
    assert len(sides) == 4  # five names at one spot: every side of their points is used


@pytest.fixture(scope="module")
def encounters(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("map") / "enc"
    assert main(["run", str(ENCOUNTERS), "--out", str(out)]) == 0
    return out


def test_the_run_map_writes_every_zone_id_below_its_zone(encounters):
    folder = load_run_folder(encounters)
    figure = plots.run_figures(folder, build_geography(folder.scenario))["map"]
    ax = figure.axes[0]
    written = [z for z in folder.zones if z.origin != "work_area"]
    assert sorted(gids(ax, "zone:")) == sorted(f"zone:{z.id}" for z in written)
    texts = {t.get_gid(): t for t in ax.texts}
    for zone in written:
        text = texts[f"zone:{zone.id}"]
        lon, lat = text.xy
        assert text.get_text() == zone.id
        assert math.isclose(lat, zone.ring_lonlat[:, 1].min())
        assert zone.ring_lonlat[:, 0].min() < lon < zone.ring_lonlat[:, 0].max()


def test_the_run_map_writes_the_mission_areas_in_view(encounters, tmp_path):
    # The baseline's mission areas crowd the lower river; each is written all the same.
    out = tmp_path / "base"
    assert main(["run", str(BASELINE), "--duration", "6 h", "--out", str(out)]) == 0
    folder = load_run_folder(out)
    ax = plots.run_figures(folder, build_geography(folder.scenario))["map"].axes[0]
    assert {f"place:{n}" for n in key_places(folder.scenario)} <= set(gids(ax, "place:"))
