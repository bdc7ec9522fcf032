"""The scenario's ``recorded:`` entries as pydantic models: files of recorded tracks.

Each entry names a CSV or Parquet file of recorded reports (ADS-B exports, radar plots,
or a run's ``--export-tracks``) and the party whose flights they are. The model checks the
entry as written: the file's place (relative to the scenario's folder and inside it,
unless ``--allow-outside``), its format, columns and limits. The data itself is read by
``sim.traffic.recorded`` when the flights are made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainValidator, ValidationInfo, WithJsonSchema

from sim.model import fields as f
from sim.model.sections import PartyRef, Section, field, quantity_json
from sim.model.spec import RecordedSpec

FORMATS = ("csv", "parquet")
ALTITUDE_UNITS = ("ft", "m")
RECORDED_FORM = ('write recorded: [{file: data/tracks.parquet, party: russia}] (a path '
                 "relative to the scenario's folder)")
_ALLOW = "load it with allow_outside=True to read it anyway"


def resolved_file(value: str, base: Path) -> Path:
    """The file a ``file:`` names: relative to ``base`` (the scenario's folder), symlinks
    resolved."""
    return (base / Path(value).expanduser()).resolve()


def _file(value: Any, info: ValidationInfo) -> str:
    value = f.given(value)
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        f.fail_here(f"{f.describe(value)} is not a file name; {RECORDED_FORM}")
    context = info.context if isinstance(info.context, Mapping) else {}
    base = Path(context.get("base", "."))
    path = resolved_file(value, base)
    inside = base.resolve()
    if not context.get("allow_outside", False) and path != inside and \
            inside not in path.parents:
        f.fail_here(f"{value!r} is outside the scenario's folder {str(inside)!r} (as "
                    f"{str(path)!r}); a scenario reads files in its own folder or below it, "
                    f"so that running a scenario from elsewhere cannot read any file; move the "
                    f"file there, or {_ALLOW}")
    if not context.get("data_files", True):
        return value
    if not path.exists():
        f.fail_here(f"no such file {str(path)!r}; paths are relative to the scenario's folder "
                    f"{str(inside)!r}")
    if path.is_dir():
        f.fail_here(f"{str(path)!r} is a folder, not a file of recorded reports")
    return value


def _format(value: Any, info: ValidationInfo) -> str | None:
    value = f.given(value)
    if value is None:
        name = info.data.get("file")
        if name is None:  # the file is in error: said there
            return None
        suffix = Path(name).suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            f.fail_here(f"required: the file's name {name!r} ends neither .csv nor .parquet; "
                        "write format: csv or format: parquet")
        return suffix
    if value not in FORMATS:
        f.fail_here(f"{f.describe(value)} is not a format; write csv or parquet")
    return str(value)


def _column(value: Any) -> str | None:
    value = f.given(value)
    if value is not None and (not isinstance(value, str) or not value):
        f.fail_here(f"{f.describe(value)} is not a column name; write the file's name for "
                    "it, such as timestamp: time")
    return value


Column = Annotated[str | None, PlainValidator(_column), WithJsonSchema({"type": "string",
                                                                       "minLength": 1})]


class ColumnsModel(Section):
    """The file's column names for the reader's fields; a field not named takes the
    reader's default name."""

    what = "the columns"
    unfilled = frozenset({"timestamp", "id", "latitude", "longitude", "altitude"})
    timestamp: Column = field(None, "The time column: ISO 8601 UTC times, or seconds on the "
                                    "run's clock.", "column name",
                              default_text="timestamp")
    id: Column = field(None, "The aircraft's id column.", "column name",
                       default_text="icao24 where the file has it, else callsign")
    latitude: Column = field(None, "The latitude column, WGS84 degrees.", "column name",
                             default_text="latitude")
    longitude: Column = field(None, "The longitude column, WGS84 degrees.", "column name",
                              default_text="longitude")
    altitude: Column = field(None, "The altitude column, in altitude_unit.", "column name",
                             default_text="altitude")


def _gap(value: Any) -> float:
    return float(f.quantity("duration", 0.0, strict=True)(value) or 0.0)


def _speed(value: Any) -> float:
    return float(f.quantity("speed", 0.0, strict=True)(value) or 0.0)


class RecordedModel(Section):
    """A file of recorded tracks, flown as the flights of a party."""

    what = "a recorded entry"
    null_refused = frozenset({"file", "party"})
    unfilled = frozenset({"columns"})
    file: Annotated[str, PlainValidator(_file), WithJsonSchema(
        {"type": "string", "minLength": 1})] = field(
        f.REQUIRED, "The CSV or Parquet file, relative to the scenario's folder and inside "
                    "it (unless --allow-outside).", "path")
    party: PartyRef = field(f.REQUIRED, "The party whose flights they are: a key of "
                                        "parties.", "id")
    format: Annotated[str | None, PlainValidator(_format), WithJsonSchema(
        {"enum": list(FORMATS)})] = field(
        None, "csv or parquet.", "csv or parquet", validate_default=True,
        default_text="the file's extension (.csv or .parquet), else required")
    columns: ColumnsModel | None = field(None, "The file's column names, where they are not "
                                               "the reader's.", "mapping",
                                         default_text="the reader's names")
    altitude_unit: Annotated[str, PlainValidator(f.choice(
        ALTITUDE_UNITS, "is not an altitude unit; write ft or m")), WithJsonSchema(
        {"enum": list(ALTITUDE_UNITS)})] = field("ft", "The altitude column's unit.",
                                                 "ft or m")
    max_gap: Annotated[float, PlainValidator(_gap), quantity_json("duration")] = field(
        "60 s", "The longest time between two reports of one flight; a longer gap ends a "
                "flight and starts the next (<id>#2, ...).", "duration")
    max_speed: Annotated[float, PlainValidator(_speed), quantity_json("speed")] = field(
        "1200 kt", "The highest ground speed between two reports; a faster pair is an "
                   "error.", "speed")

    @classmethod
    def fill_keys(cls, raw: Mapping[str, Any]) -> tuple[str, ...]:
        """The format is filled by the loader, from the file's name."""
        return ("altitude_unit", "max_gap", "max_speed")


def recorded_specs(models: Sequence[RecordedModel], raw: Sequence[dict[str, Any]], base: Path
                   ) -> tuple[RecordedSpec, ...]:
    """The frozen recorded entries of validated models. The entry as run (``raw``) names
    the file read by its absolute path (so that the run folder's scenario.yaml names it
    wherever it is read from), and the format read from the file's name."""
    entries = []
    for i, (entry, node) in enumerate(zip(models, raw, strict=True)):
        assert entry.format is not None  # a format not given nor read from the name is refused
        path = str(resolved_file(entry.file, base))
        node["file"] = path
        if node.get("format") is None:  # written where the reference lists it
            node["format"] = entry.format
            ordered = {key: node[key] for key in RecordedModel.model_fields if key in node}
            node.clear()
            node.update(ordered)
        columns = entry.columns
        named = () if columns is None else tuple(
            (key, value) for key, value in columns.model_dump().items() if value is not None)
        entries.append(RecordedSpec(
            entry.file, path, entry.party,
            "csv" if entry.format == "csv" else "parquet", named,
            "m" if entry.altitude_unit == "m" else "ft", entry.max_gap, entry.max_speed,
            f"recorded[{i}]"))
    return tuple(entries)
