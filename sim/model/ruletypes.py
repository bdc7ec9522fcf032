"""Rule types: what a rule's YAML ``type`` names, built in or added by an installed package.

A rule type is a name, a parameter model (a pydantic model of the scenario schema, so a
plugin's keys get the loader's messages, defaults and JSON Schema) and a detect function
``(parameters, world) -> list[Episode]``. Installed packages add types by entry point in the
group ``deconflict.rules`` (``docs/rules.md``); scenario files only name them. Entry points
are looked at only when a scenario names a type that is not built in (or when asked), and a
plugin is imported only when a scenario uses it, so that one broken package breaks only the
scenarios that use it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.model import fields as f
from sim.model.sections import Flag, Ident, Section, field
from sim.model.spec import Problem

if TYPE_CHECKING:  # records needs the loader, which needs this module
    from sim.model.records import Episode

ENTRY_POINT_GROUP = "deconflict.rules"
BUILTIN_RULE_TYPES = ("min_separation", "lane_discipline", "zone_incursion")


class RuleParameters(Section):
    """The parameters of a rule, as a scenario writes them: the base of a plugin's model.

    Every rule has an ``id``, its ``type`` and ``complaint``; a subclass adds its own keys
    with the annotated types and ``parameter`` of ``sim.rules``. Values arrive in SI units
    (metres, seconds, metres per second) whatever unit the file wrote.
    """

    what = "a rule"
    id: Ident = field(f.REQUIRED, "Its id, unique among the rules.", "id")
    type: str = field(f.REQUIRED, "The rule type.", "rule type")
    complaint: Flag = field(False, "The other side complains of what it saw.", "true or false")


Detect = Callable[[Any, Any], "list[Episode]"]  # (parameters, sim.detect World) -> episodes


@dataclass(frozen=True, slots=True)
class RuleType:
    """A rule type: its YAML name, its parameter model and its detect function."""

    name: str
    parameters: type[Section]
    detect: Detect
    source: str = "built-in"  # where it comes from: built-in, or the package and entry point

    @property
    def summary(self) -> str:
        """One line on what it counts: the first line of the detect function's docstring."""
        doc = (self.detect.__doc__ or self.parameters.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    @property
    def builtin(self) -> bool:
        """Whether the simulator itself provides it."""
        return self.source == "built-in"


class PluginError(Exception):
    """A plugin's own fault (it failed to import, is not a rule type, raised, or returned
    something that is not episodes of its rule): exit 1, named as that plugin's."""

    def __init__(self, plugin: str, message: str, rule: str | None = None) -> None:
        self.plugin, self.message, self.rule = plugin, message, rule
        super().__init__(plugin, message, rule)  # rebuilt from these when unpickled

    def __str__(self) -> str:
        rule = f"rule {self.rule!r} " if self.rule else ""
        return f"{rule}of plugin {self.plugin}: {self.message}"


@dataclass(frozen=True, slots=True)
class Installed:
    """An entry point of the group, not yet imported."""

    name: str
    value: str  # module:attribute
    distribution: str  # name and version of the package that declares it

    @property
    def source(self) -> str:
        """Where it comes from, as messages and ``deconflict rules`` say it."""
        return f"{self.distribution} (entry point {self.name} = {self.value})"


@functools.cache
def installed() -> tuple[Installed, ...]:
    """Every entry point of the group, by name (importing none of them)."""
    from importlib.metadata import entry_points  # scanning the packages costs milliseconds

    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(point, "dist", None)
        package = f"{dist.name} {dist.version}" if dist is not None else "an unknown package"
        found.append(Installed(point.name, point.value, package))
    return tuple(sorted(found, key=lambda p: (p.name, p.distribution)))


def known_names() -> tuple[str, ...]:
    """Every rule type a scenario may name: the built-in ones, then the installed ones."""
    extra = sorted({p.name for p in installed()} - set(BUILTIN_RULE_TYPES))
    return BUILTIN_RULE_TYPES + tuple(extra)


@functools.cache
def plugin(name: str) -> RuleType:
    """The installed rule type ``name``, imported. Raises PluginError for a plugin at
    fault, KeyError when no installed package provides it."""
    points = [p for p in installed() if p.name == name]
    if not points:
        raise KeyError(name)
    if name in BUILTIN_RULE_TYPES:
        raise PluginError(points[0].source, f"declares the built-in rule type {name!r}; a "
                                            "plugin must name a type of its own")
    if len(points) > 1:
        raise PluginError(" and ".join(p.source for p in points),
                          f"both declare the rule type {name!r}; uninstall one of them")
    point = points[0]
    from importlib.metadata import EntryPoint

    try:
        loaded = EntryPoint(point.name, point.value, ENTRY_POINT_GROUP).load()
    except Exception as exc:  # noqa: BLE001 - any failure to import is the plugin's
        raise PluginError(point.source, f"failed to load: {type(exc).__name__}: {exc}") from exc
    if not isinstance(loaded, RuleType):
        raise PluginError(point.source, f"is {type(loaded).__name__}, not a rule type; point "
                                        "the entry point at the object sim.rules.rule() makes")
    if loaded.name != name:
        raise PluginError(point.source, f"is the rule type {loaded.name!r}, not {name!r}; "
                                        "the entry point's name must be the type's")
    if not issubclass(loaded.parameters, RuleParameters):
        raise PluginError(point.source, "its parameters are not a sim.rules.RuleParameters")
    return RuleType(loaded.name, loaded.parameters, loaded.detect, point.source)


def document_plugins(top: dict[str, Any]) -> tuple[RuleType, ...]:
    """The rule types of installed packages that the document's rules name, imported (a
    type no package provides is left for the validation to report)."""
    rules = top.get("rules")
    wanted: dict[str, str] = {}  # type -> the id of the first rule of it
    for rule in rules if isinstance(rules, list) else []:
        kind = rule.get("type") if isinstance(rule, dict) else None
        if isinstance(kind, str) and kind not in BUILTIN_RULE_TYPES:
            wanted.setdefault(kind, str(rule.get("id")))
    found = []
    for kind, rule_id in sorted(wanted.items()):
        try:
            found.append(plugin(kind))
        except KeyError:
            continue
        except PluginError as exc:
            raise PluginError(exc.plugin, exc.message, rule_id) from exc
    return tuple(found)


def plugin_named(top: dict[str, Any], plugins: Sequence[RuleType],
                  problems: list[Problem], file: str) -> list[Problem]:
    """A problem in a plugin's rule names the rule and the plugin whose parameters it
    breaks."""
    if not plugins:
        return problems
    source = {p.name: p.source for p in plugins}
    rules = top["rules"]
    out = []
    for problem in problems:
        at = re.match(r"rules\[(\d+)\]", problem.path)
        rule = rules[int(at[1])] if at and int(at[1]) < len(rules) else None
        if isinstance(rule, dict) and rule.get("type") in source:
            ident = rule.get("id")
            named = f"rule {ident!r}" if isinstance(ident, str) else "a rule"
            problem = Problem(file, problem.path, f"{problem.message} ({named} of type "
                              f"{rule['type']}, from {source[rule['type']]})")
        out.append(problem)
    return out


def clear_cache() -> None:
    """Look at the installed packages again (after installing one in the same process)."""
    installed.cache_clear()
    plugin.cache_clear()
