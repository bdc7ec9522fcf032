"""Space (docs/exactness.md): the local frame, the default centre, lane sides and offsets,
the gazetteer."""

from __future__ import annotations

import math
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely.geometry import LineString
from shapely.geometry import Point as ShapelyPoint

from sim.model.geography import LocalFrame, build_geography, frame_of
from sim.model.places import builtin_centerlines, builtin_places
from sim.model.scenario import ScenarioError, parse_scenario

GEOD = Geod(ellps="WGS84")
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
MI = 1609.344
OFFSET = 22.5 * MI

CONTRACT_PLACES = ["jarabulus", "tishrin_dam", "tabqa", "raqqa", "maadan", "deir_ez_zor",
               "mayadin", "abu_kamal", "al_qaim", "manbij", "palmyra", "t4", "shayrat",
               "al_tanf", "hmeimim", "incirlik", "al_udeid"]
RIVER_TOWNS = ["jarabulus", "raqqa", "deir_ez_zor", "mayadin", "abu_kamal"]


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# ---------------------------------------------------------------------------- the frame

FRAME_CENTERS = [(39.5, 35.8), (38.011, 36.818), (40.9, 34.45), (45.0, 30.0), (36.0, 37.5)]


@cache
def frame_at(lon: float, lat: float) -> LocalFrame:
    return LocalFrame(lon, lat)


far_points = st.tuples(st.sampled_from(FRAME_CENTERS),
                       st.floats(-180.0, 180.0),           # azimuth from the centre
                       st.floats(0.0, 1_000_000.0))        # geodesic distance from it, m


@settings(max_examples=300, deadline=None)
@given(far_points)
def test_frame_round_trip_within_a_millimetre(case) -> None:
    (clon, clat), azimuth, distance = case
    lon, lat, _ = GEOD.fwd(clon, clat, azimuth, distance)
    frame = frame_at(clon, clat)
    x, y = frame.to_xy(lon, lat)
    back_lon, back_lat = frame.to_lonlat(x, y)
    assert geodesic_m(lon, lat, float(back_lon), float(back_lat)) < 1e-3


@settings(max_examples=300, deadline=None)
@given(far_points)
def test_frame_is_azimuthal_equidistant(case) -> None:
    """|xy| is the true geodesic distance from the centre, and the bearing is kept."""
    (clon, clat), azimuth, distance = case
    lon, lat, _ = GEOD.fwd(clon, clat, azimuth, distance)
    x, y = frame_at(clon, clat).to_xy(lon, lat)
    radius = math.hypot(float(x), float(y))
    true = geodesic_m(clon, clat, lon, lat)
    # PROJ puts points within ~0.6 mm (1e-10 rad) of the centre exactly on it: abs 1 mm.
    assert radius == pytest.approx(true, rel=1e-6, abs=1e-3)
    if distance > 10.0:  # x east, y north: the direction from the centre is the azimuth
        bearing = math.degrees(math.atan2(float(x), float(y)))
        assert abs((bearing - azimuth + 180.0) % 360.0 - 180.0) < 1e-6


@settings(max_examples=40, deadline=None)
@given(st.floats(35.0, 52.0), st.floats(25.0, 38.0), st.floats(-180.0, 180.0),
       st.floats(0.0, 1_000_000.0))
def test_frame_round_trip_any_centre_in_region(clon, clat, azimuth, distance) -> None:
    frame = LocalFrame(clon, clat)
    lon, lat, _ = GEOD.fwd(clon, clat, azimuth, distance)
    x, y = frame.to_xy(lon, lat)
    assert math.hypot(float(x), float(y)) == pytest.approx(distance, rel=1e-6, abs=1e-3)
    back_lon, back_lat = frame.to_lonlat(x, y)
    assert geodesic_m(lon, lat, float(back_lon), float(back_lat)) < 1e-3


def test_frame_vectorised() -> None:
    frame = frame_at(39.5, 35.8)
    lons = np.array([39.0, 40.0, 41.5])
    lats = np.array([35.0, 36.0, 34.5])
    x, y = frame.to_xy(lons, lats)
    assert x.shape == y.shape == (3,)
    back_lon, back_lat = frame.to_lonlat(x, y)
    np.testing.assert_allclose(back_lon, lons, atol=1e-9)
    np.testing.assert_allclose(back_lat, lats, atol=1e-9)


@pytest.mark.parametrize("center", FRAME_CENTERS)
def test_centre_maps_to_origin(center) -> None:
    x, y = LocalFrame(*center).to_xy(*center)
    assert abs(float(x)) < 1e-6 and abs(float(y)) < 1e-6


@pytest.mark.parametrize(("dlon", "dlat", "east", "north"), [
    (0.5, 0.0, True, None), (-0.5, 0.0, False, None), (0.0, 0.5, None, True),
    (0.0, -0.5, None, False),
])
def test_x_east_y_north(dlon, dlat, east, north) -> None:
    frame = frame_at(39.5, 35.8)
    x, y = frame.to_xy(39.5 + dlon, 35.8 + dlat)
    if east is not None:
        assert (float(x) > 1000.0) == east and (float(x) < -1000.0) == (not east)
    if north is not None:
        assert (float(y) > 1000.0) == north and (float(y) < -1000.0) == (not north)


def test_frame_center_from_scenario() -> None:
    scenario = parse_scenario({"frame": {"center": "raqqa"}}, "x.yaml")
    frame = frame_of(scenario)
    assert (frame.center_lon, frame.center_lat) == builtin_places()["raqqa"]
    scenario = parse_scenario({"frame": {"center": [41.0, 34.0]}}, "x.yaml")
    assert (frame_of(scenario).center_lon, frame_of(scenario).center_lat) == (41.0, 34.0)


# ---------------------------------------------------------------------------- default centre


def assert_geodesic_midpoint(points, center) -> None:
    """``center`` lies on the polyline and halves its geodesic length (within 1 m)."""
    clon, clat = center
    lengths = [geodesic_m(*a, *b) for a, b in zip(points, points[1:], strict=False)]
    total = sum(lengths)
    for i, (a, b) in enumerate(zip(points, points[1:], strict=False)):
        to_a = geodesic_m(*a, clon, clat)
        to_b = geodesic_m(clon, clat, *b)
        if abs(to_a + to_b - lengths[i]) < 1.0:  # the centre is on this segment
            before = sum(lengths[:i]) + to_a
            after = to_b + sum(lengths[i + 1:])
            assert before == pytest.approx(total / 2, abs=1.0)
            assert after == pytest.approx(total / 2, abs=1.0)
            return
    pytest.fail(f"the centre {center} is not on the centerline")


def test_default_centre_is_euphrates_midpoint() -> None:
    scenario = parse_scenario({"corridor": {"centerline": "euphrates", "half_width": "40 mi"}},
                              "x.yaml")
    frame = frame_of(scenario)
    river = builtin_centerlines()["euphrates"]
    assert_geodesic_midpoint(list(river), (frame.center_lon, frame.center_lat))
    geography = build_geography(scenario)
    assert geography.frame.center_lon == frame.center_lon
    assert geography.frame.center_lat == frame.center_lat


@pytest.mark.parametrize("line", [
    [[38.0, 36.0], [40.0, 36.0]],
    [[38.0, 36.0], [40.0, 36.0], [40.0, 34.0]],
    [[39.0, 35.0], [39.1, 35.1], [41.5, 35.0], [42.0, 33.0], [42.1, 33.05]],
])
def test_default_centre_is_midpoint_of_written_centerline(line) -> None:
    scenario = parse_scenario({"corridor": {"centerline": line}}, "x.yaml")
    frame = frame_of(scenario)
    assert_geodesic_midpoint([tuple(p) for p in line], (frame.center_lon, frame.center_lat))


def test_default_centre_of_named_centerline_points() -> None:
    scenario = parse_scenario({"corridor": {"centerline": ["raqqa", "deir_ez_zor",
                                                           "abu_kamal"]}}, "x.yaml")
    frame = frame_of(scenario)
    points = [builtin_places()[n] for n in ("raqqa", "deir_ez_zor", "abu_kamal")]
    assert_geodesic_midpoint(points, (frame.center_lon, frame.center_lat))


# ---------------------------------------------------------------------------- lanes

LANES_DOC = {
    "corridor": {"centerline": "euphrates", "half_width": "40 mi"},
    "parties": {"a": None, "b": None},
    "lanes": {"ne": {"party": "a", "offset": "+22.5 mi", "direction": "downstream"},
              "sw": {"party": "b", "offset": "-22.5 mi", "direction": "upstream"}},
}


@lru_cache(maxsize=1)
def lanes_geography():
    return build_geography(parse_scenario(LANES_DOC, "x.yaml"))


def lane(ident: str) -> LineString:
    (found,) = [g for g in lanes_geography().lanes if g.lane.id == ident]
    geometry = found.line.geometry()
    assert isinstance(geometry, LineString)
    return geometry


def river_at(place: str):
    """The centerline point nearest a place, and the centerline's direction there."""
    geography = lanes_geography()
    river = geography.centerline.geometry()
    x, y = geography.frame.to_xy(*builtin_places()[place])
    s = river.project(ShapelyPoint(float(x), float(y)))
    here = np.array(river.interpolate(s).coords[0])
    ahead = np.array(river.interpolate(min(s + 2000.0, river.length)).coords[0])
    behind = np.array(river.interpolate(max(s - 2000.0, 0.0)).coords[0])
    direction = ahead - behind
    return here, direction / np.linalg.norm(direction)


@pytest.mark.parametrize("place", ["raqqa", "deir_ez_zor", "mayadin", "maadan", "abu_kamal"])
@pytest.mark.parametrize(("ident", "side"), [("ne", 1.0), ("sw", -1.0)])
def test_lane_side(place: str, ident: str, side: float) -> None:
    """Positive offsets lie to the left going downstream: the north-east bank."""
    here, direction = river_at(place)
    line = lane(ident)
    nearest = np.array(line.interpolate(line.project(ShapelyPoint(*here))).coords[0])
    to_lane = nearest - here
    cross = direction[0] * to_lane[1] - direction[1] * to_lane[0]
    assert side * cross > 0.0
    # Along the middle and lower river (flowing east to south-east), left is north-east.
    assert side * (to_lane[0] + to_lane[1]) > 0.0
    # At least the offset away; farther on the inside of a bend, where the lane is trimmed.
    assert 0.99 * OFFSET <= np.linalg.norm(to_lane) <= 1.2 * OFFSET


def test_lane_north_of_river_at_raqqa() -> None:
    here, _ = river_at("raqqa")
    for ident, side in (("ne", 1.0), ("sw", -1.0)):
        line = lane(ident)
        nearest = np.array(line.interpolate(line.project(ShapelyPoint(*here))).coords[0])
        assert side * (nearest[1] - here[1]) > 0.5 * OFFSET


def test_lane_of_opposite_offset_is_on_the_other_side() -> None:
    river = lanes_geography().centerline.geometry()
    ne, sw = lane("ne"), lane("sw")
    assert not ne.intersects(sw)
    assert not ne.intersects(river) and not sw.intersects(river)


@pytest.mark.parametrize("ident", ["ne", "sw"])
def test_lane_distance_is_the_offset(ident: str) -> None:
    """Points of the lane whose nearest centerline point is inside a segment, 1 km or more
    from its ends (a locally straight stretch, away from bends), lie exactly ``offset`` from
    the centerline; the median over the lane's vertices is the offset too, and no vertex is
    farther than the offset."""
    river = lanes_geography().centerline.geometry()
    river_vertices = np.asarray(river.coords)
    line = lane(ident)
    samples = [np.array(line.interpolate(s).coords[0])
               for s in np.linspace(0.0, line.length, 1500)]
    straight = []
    for p in samples:
        point = ShapelyPoint(*p)
        foot = np.array(river.interpolate(river.project(point)).coords[0])
        if np.min(np.hypot(*(river_vertices - foot).T)) > 1000.0:
            straight.append(river.distance(point))
    assert len(straight) >= 100
    np.testing.assert_allclose(straight, OFFSET, atol=1.0)
    vertices = np.asarray(line.coords)
    distances = np.array([river.distance(ShapelyPoint(*p)) for p in vertices])
    assert float(np.median(distances)) == pytest.approx(OFFSET, abs=1.0)
    assert float(np.max(distances)) == pytest.approx(OFFSET, abs=1.0)


def test_lane_zero_offset_is_the_centerline() -> None:
    document = {**LANES_DOC, "lanes": {"c": {"party": "a", "offset": "0 mi",
                                             "direction": "downstream"}}}
    geography = build_geography(parse_scenario(document, "x.yaml"))
    (only,) = geography.lanes
    np.testing.assert_array_equal(only.line.segments, geography.centerline.segments)


# ---------------------------------------------------------------------------- gazetteer


@lru_cache(maxsize=1)
def seed_places() -> dict:
    return yaml.safe_load((SEEDS / "places.yaml").read_text(encoding="utf-8"))["places"]


@lru_cache(maxsize=1)
def seed_river() -> dict:
    return yaml.safe_load((SEEDS / "euphrates.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", CONTRACT_PLACES)
def test_spec_place_exists_with_source(name: str) -> None:
    places = builtin_places()
    assert name in places
    lon, lat = places[name]
    assert 35.0 <= lon <= 52.0 and 25.0 <= lat <= 38.0
    entry = seed_places()[name]
    assert isinstance(entry.get("source"), str) and entry["source"].strip()
    assert (float(entry["lon"]), float(entry["lat"])) == (lon, lat)


def test_every_builtin_place_has_a_source() -> None:
    for name, entry in seed_places().items():
        assert isinstance(entry.get("source"), str) and entry["source"].strip(), name
        assert 35.0 <= float(entry["lon"]) <= 52.0 and 25.0 <= float(entry["lat"]) <= 38.0, name
    assert set(seed_places()) == set(builtin_places())


def test_euphrates_centerline() -> None:
    river = builtin_centerlines()["euphrates"]
    assert len(river) >= 25
    places = builtin_places()
    assert geodesic_m(*river[0], *places["jarabulus"]) < 10_000.0
    assert geodesic_m(*river[-1], *places["abu_kamal"]) < 10_000.0
    points = seed_river()["points"]
    assert len(points) == len(river)
    for i, point in enumerate(points):
        assert isinstance(point.get("source"), str) and point["source"].strip(), i
        assert (float(point["lon"]), float(point["lat"])) == river[i]
        assert 35.0 <= river[i][0] <= 52.0 and 25.0 <= river[i][1] <= 38.0


@pytest.mark.parametrize("name", RIVER_TOWNS)
def test_river_towns_are_on_the_centerline(name: str) -> None:
    lon, lat = builtin_places()[name]
    to_local = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m",
        always_xy=True)
    river = np.array(builtin_centerlines()["euphrates"])
    x, y = to_local.transform(river[:, 0], river[:, 1])
    assert LineString(np.column_stack([x, y])).distance(ShapelyPoint(0.0, 0.0)) < 5000.0


# ---------------------------------------------------------------------------- places: overrides

def _flight_doc(places: dict, route: list) -> dict:
    return {"frame": {"center": [39.5, 35.8]}, "places": places, "parties": {"a": None},
            "flights": [{"id": "F", "party": "a", "speed": "450 kt", "altitude": "FL250",
                         "route": route}]}


def test_scenario_place_overrides_builtin() -> None:
    geography = build_geography(parse_scenario(
        _flight_doc({"raqqa": [40.0, 36.0]}, ["raqqa", "mayadin"]), "x.yaml"))
    x, y = geography.frame.to_xy(40.0, 36.0)
    np.testing.assert_allclose(geography.routes["F"][0], [float(x), float(y)], atol=1e-9)
    mx, my = geography.frame.to_xy(*builtin_places()["mayadin"])
    np.testing.assert_allclose(geography.routes["F"][1], [float(mx), float(my)], atol=1e-9)


def test_scenario_place_in_frame_overrides_builtin() -> None:
    geography = build_geography(parse_scenario(
        _flight_doc({"raqqa": {"x": "1 km", "y": "-2 km"}, "home": [39.0, 35.0]},
                    ["raqqa", "home"]), "x.yaml"))
    np.testing.assert_allclose(geography.routes["F"][0], [1000.0, -2000.0])
    hx, hy = geography.frame.to_xy(39.0, 35.0)
    np.testing.assert_allclose(geography.routes["F"][1], [float(hx), float(hy)], atol=1e-9)


def test_scenario_place_override_used_by_zones_and_frame() -> None:
    document = _flight_doc({"raqqa": [40.0, 36.0]}, ["raqqa", "tabqa"])
    document["frame"] = {"center": "raqqa"}
    document["zones"] = [{"id": "Z", "party": "a",
                          "area": {"circle": {"center": "raqqa", "radius": "5 km"}}}]
    geography = build_geography(parse_scenario(document, "x.yaml"))
    assert (geography.frame.center_lon, geography.frame.center_lat) == (40.0, 36.0)
    assert geography.zones[0].center == pytest.approx((0.0, 0.0), abs=1e-6)
    np.testing.assert_allclose(geography.routes["F"][0], [0.0, 0.0], atol=1e-6)


# ---------------------------------------------------------------------------- bad polygons

GOOD_ZONE = {"id": "OK", "party": "a", "area": {"polygon": ["raqqa", "tabqa", "maadan"]}}


@pytest.mark.parametrize("polygon", [
    [[39.0, 35.0], [40.0, 36.0], [40.0, 35.0], [39.0, 36.0]],                    # bow tie
    [{"x": "0 km", "y": "0 km"}, {"x": "10 km", "y": "10 km"},
     {"x": "10 km", "y": "0 km"}, {"x": "0 km", "y": "10 km"}],                   # bow tie
    [{"x": "0 km", "y": "0 km"}, {"x": "1 km", "y": "0 km"}, {"x": "2 km", "y": "0 km"}],
    ["raqqa", "raqqa", "raqqa"],                                                 # one point
    [[39.0, 35.0], [39.5, 35.5], [39.0, 35.0]],                                  # back and forth
], ids=["bowtie-lonlat", "bowtie-frame", "collinear", "repeated", "degenerate"])
def test_bad_polygon_refused_by_build_geography(polygon) -> None:
    document = {"frame": {"center": [39.5, 35.8]}, "parties": {"a": None},
                "zones": [GOOD_ZONE, {"id": "BAD", "party": "a", "area": {"polygon": polygon}}]}
    scenario = parse_scenario(document, "x.yaml")  # the loader cannot see it: no frame yet
    with pytest.raises(ScenarioError) as info:
        build_geography(scenario)
    paths = [p.path for p in info.value.problems]
    assert paths == ["zones[1].area.polygon"], [str(p) for p in info.value.problems]
    assert str(info.value.problems[0]).startswith("x.yaml: zones[1].area.polygon: ")


def test_good_polygons_build() -> None:
    document = {"frame": {"center": [39.5, 35.8]}, "parties": {"a": None},
                "zones": [GOOD_ZONE,
                          {"id": "CW", "party": "a", "area": {"polygon": [
                              {"x": "0 km", "y": "0 km"}, {"x": "0 km", "y": "10 km"},
                              {"x": "10 km", "y": "10 km"}, {"x": "10 km", "y": "0 km"}]}}]}
    geography = build_geography(parse_scenario(document, "x.yaml"))
    assert [z.spec.id for z in geography.zones] == ["OK", "CW"]
    ring = geography.zones[1].ring
    assert ring.shape == (5, 2) and np.array_equal(ring[0], ring[-1])
    assert geography.zones[1].shape.area == pytest.approx(1e8)


@settings(max_examples=200, deadline=None)
@given(st.floats(-180.0, 180.0), st.floats(-90.0, 90.0), st.integers(0, 2**32 - 1))
def test_the_frame_projects_as_from_epsg_4326_bit_for_bit(lon, lat, seed):
    crs = (f"+proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +x_0=0 +y_0=0 +datum=WGS84 +units=m "
           "+no_defs")
    forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inverse = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    frame = LocalFrame(lon, lat)
    rng = np.random.default_rng(seed)
    lons = np.concatenate([rng.uniform(-180, 180, 500), lon + rng.uniform(-5, 5, 500)])
    lats = np.concatenate([rng.uniform(-90, 90, 500), np.clip(lat + rng.uniform(-5, 5, 500),
                                                               -90, 90)])
    want = forward.transform(lons, lats)
    got = frame.to_xy(lons, lats)
    assert all(np.array_equal(w, g, equal_nan=True) for w, g in zip(want, got, strict=True))
    xs = np.concatenate([want[0][np.isfinite(want[0])], rng.uniform(-2e7, 2e7, 500)])
    ys = np.concatenate([want[1][np.isfinite(want[1])], rng.uniform(-2e7, 2e7, 500)])
    want = inverse.transform(xs, ys)
    got = frame.to_lonlat(xs, ys)
    assert all(np.array_equal(w, g, equal_nan=True) for w, g in zip(want, got, strict=True))
