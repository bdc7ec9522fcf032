"""Reading scenario YAML safely (bounded size and nesting, no duplicate keys) and applying
``--set KEY.PATH=VALUE`` overrides to a document."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.model.limits import DEFAULT_LIMITS, Limits
from sim.model.spec import Problem, ScenarioError

# ---------------------------------------------------------------------------- YAML reading


# libyaml's parser when PyYAML has it (several times faster on large scenarios).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader (no object construction) that refuses duplicate keys.

    Unquoted dates stay text (the scenario parses ``start`` itself), so a malformed date
    is a scenario error with a key path rather than a failure inside the YAML library.
    """


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()}


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
                       ) -> dict[Any, Any]:
    # Duplicates among the keys written here; keys merged in with << may be overridden.
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not {type(key).__name__}",
                key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r} (each key may appear once)", key_node.start_mark)
        seen[key] = key_node
    loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Read a YAML file safely; raise ScenarioError naming the file on any problem."""
    name = str(path)
    try:
        with open(path, "rb") as handle:  # at most the limit and a byte (a pipe has no size)
            data = handle.read(limits.file_bytes + 1)
        if len(data) > limits.file_bytes:
            raise ScenarioError([Problem(name, "", f"is larger than {limits.file_bytes:,} bytes; "
                                         "too large to be a scenario (raise the limit: "
                                         "Limits(file_bytes=N))")])
    except FileNotFoundError:
        raise ScenarioError([Problem(name, "", "no such file")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(name, "", "is a folder, not a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(name, "", f"cannot be read ({exc.strerror})")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(name, "", f"is not UTF-8 text (byte {exc.start}); "
                                     "save the scenario as UTF-8")]) from None
    return parse_yaml(text, name, limits)


def parse_yaml(text: str, name: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse YAML text safely; raise ScenarioError naming ``name`` on any problem."""
    depth = _bracket_depth(text)
    if depth > limits.nesting:
        raise ScenarioError([Problem(name, "", f"nested {depth} levels deep; a scenario needs "
                                     f"at most {limits.nesting}")])
    too_many = ScenarioError([Problem(name, "", f"has more than {limits.nodes:,} YAML values, "
                                      "lists and mappings; too large to be a scenario (raise "
                                      "the limit: Limits(nodes=N))")])
    try:
        return _plain_document(text, limits)
    except _TooManyNodes:
        raise too_many from None
    except _NotPlain:
        pass  # PyYAML's own loader reads it, and says what is wrong, where
    if len(text) > COUNT_NODES_ABOVE_BYTES and _too_many_nodes(text, limits.nodes):
        raise too_many
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(name, where, f"not valid YAML: {problem}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(name, "", "nested too deeply to be a scenario")]) from None
    except Exception as exc:  # noqa: BLE001 - a safe loader's constructors fail on bad
        # explicit tags (!!int abc, !!timestamp foo) in many ways; each is bad input here.
        raise ScenarioError([Problem(name, "", f"not valid YAML ({type(exc).__name__}: "
                                     f"{exc}); remove the explicit !!tag or quote the "
                                     "value")]) from None
    problem = _shape_problem(document, limits)
    if problem:
        raise ScenarioError([Problem(name, "", problem)])
    return document


class _NotPlain(Exception):
    """The text is not plain data (or not valid YAML): PyYAML's loader must read it."""


class _TooManyNodes(Exception):
    """More nodes than the limit, found on the way."""


_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null"))
_NO_KEY = object()


def _plain_document(text: str, limits: Limits) -> Any:
    """The document of ``text`` built straight from the parser's events, when it is plain
    data: no tags, anchors, aliases or merge keys, each key a plain value written once, one
    document, within the limits. Raises ``_NotPlain`` for anything else (and for any error:
    PyYAML's loader then reads the text as before and reports it).

    Why: PyYAML's loader first builds a node for every value of the file (about 0.5 kB
    each), then the values: for a large scenario three times the time, and the nodes had
    to be counted on a pass of their own (box-10000-24h's 5 MB: 3.0 s -> 1.1 s). Values are
    the loader's own: each scalar's tag by its resolver, its value by its constructor.
    """
    loader = _StrictLoader("")
    resolve, constructors = loader.resolve, loader.yaml_constructors
    count_nodes = len(text) > COUNT_NODES_ABOVE_BYTES
    most_nodes, deepest = limits.nodes, limits.nesting
    scalar_event, alias_event, document_event = (yaml.ScalarEvent, yaml.AliasEvent,
                                                 yaml.DocumentStartEvent)
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    stack: list[list[Any]] = []  # the open collections: [collection, its pending key]
    document: Any = None
    nodes = collections = documents = 0
    # Each scalar's value by its text, quoted and plain: a text is resolved and built once
    # (keys and repeated values are most of a large scenario's scalars).
    values: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    try:
        next_event = _SafeLoader(text).get_event
        while (event := next_event()) is not None:
            kind = event.__class__
            if kind is scalar_event:
                if event.anchor is not None or event.tag is not None:
                    raise _NotPlain
                text_value = event.value
                known = values[event.implicit[0]]
                value = known.get(text_value, _NO_KEY)
                if value is _NO_KEY:
                    tag = resolve(yaml.ScalarNode, text_value, event.implicit)
                    if tag == _STR_TAG:
                        value = text_value
                    elif tag in _PLAIN_TAGS:
                        value = constructors[tag](loader, yaml.ScalarNode(tag, text_value))
                    else:  # merge keys (<<), value keys (=)
                        raise _NotPlain
                    known[text_value] = value
                nodes += 1
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None:
                    raise _NotPlain
                nodes += 1
                collections += 1
                if len(stack) >= deepest or collections > most_nodes:
                    raise _NotPlain  # the loader's reading says so as before
                stack.append([{} if kind is mapping_start else [], _NO_KEY])
                continue
            elif kind is mapping_end or kind is sequence_end:
                value = stack.pop()[0]
            elif kind is document_event:
                documents += 1
                if documents > 1:
                    raise _NotPlain
                continue
            elif kind is alias_event:
                raise _NotPlain
            else:
                continue
            if count_nodes and nodes > most_nodes:
                raise _TooManyNodes
            if not stack:
                document = value
                continue
            top = stack[-1]
            collection = top[0]
            if collection.__class__ is list:
                collection.append(value)
            elif top[1] is _NO_KEY:
                if value.__class__ in (dict, list) or value in collection:
                    raise _NotPlain  # a collection as a key, or a key written twice
                top[1] = value
            else:
                collection[top[1]] = value
                top[1] = _NO_KEY
    except (_NotPlain, _TooManyNodes):
        raise
    except Exception:  # noqa: BLE001 - any problem: the loader reads it and reports it
        raise _NotPlain from None
    return document


# PyYAML builds every node of a document before any value (about 0.5 kB each): a large
# file's nodes are counted first, on the parser's event stream, in constant memory.
COUNT_NODES_ABOVE_BYTES = 1 << 20
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                yaml.AliasEvent)


def _too_many_nodes(text: str, limit: int) -> bool:
    count = 0
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            if isinstance(event, _NODE_EVENTS):
                count += 1
                if count > limit:
                    return True
    except yaml.YAMLError:
        return False  # the loader says what is wrong, where
    return False


def _bracket_depth(text: str) -> int:
    """The deepest nesting of flow brackets, found before the parser could recurse on it."""
    if "[" not in text and "{" not in text:
        return 0
    if len(text) <= SMALL_TEXT:  # numpy's set-up would cost more than the count itself
        steps = accumulate(1 if c in "[{" else -1 for c in _BRACKETS.findall(text))
        return max(0, max(steps))
    codes = np.frombuffer(text.encode("utf-8"), np.uint8)
    opening = np.zeros(256, np.int8)
    opening[[ord("["), ord("{")]] = 1
    opening[[ord("]"), ord("}")]] = -1
    deepest, depth = 0, 0
    for start in range(0, len(codes), BRACKET_BLOCK):  # blocks: memory stays small
        running = np.cumsum(opening[codes[start:start + BRACKET_BLOCK]], dtype=np.int64) + depth
        deepest = max(deepest, int(running.max(initial=0)))
        depth = int(running[-1])
    return deepest


BRACKET_BLOCK = 1 << 22
SMALL_TEXT = 1 << 16
_BRACKETS = re.compile(r"[\[\]{}]")


def _shape_problem(document: Any, limits: Limits) -> str | None:
    """Refuse documents nested too deeply or too large, counting shared (aliased) parts once."""
    stack = [(document, 0)] if isinstance(document, (dict, list)) else []
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth >= limits.nesting:
            return (f"nested more than {limits.nesting} levels deep; a scenario needs far "
                    "fewer")
        if len(seen) > limits.nodes:
            return (f"more than {limits.nodes:,} YAML values, lists and mappings; too large "
                    "to be a scenario (raise the limit: Limits(nodes=N))")
        children = node.values() if isinstance(node, dict) else node
        stack += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return None


# ---------------------------------------------------------------------------- overrides

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split_key_path(key: str) -> list[str | int]:
    parts: list[str | int] = []
    pos = 0
    for match in _SEGMENT.finditer(key):
        if match.start() != pos and key[pos:match.start()] != ".":
            raise ValueError(f"cannot read key path {key!r}")
        name, index = match.groups()
        parts.append(int(index) if index is not None else (int(name) if name.isdigit() else name))
        pos = match.end()
    if pos != len(key) or not parts:
        raise ValueError(f"cannot read key path {key!r}")
    return parts


def apply_override(document: Any, assignment: str) -> Any:
    """Apply one ``KEY.PATH=YAML_VALUE`` override to a scenario document (a copy is returned).

    Lists are indexed with ``[2]`` or ``.2``; a list of items with ids can also be indexed
    by id, for example ``rules.agreed_spacing.horizontal``.

    Raises:
        ValueError: the assignment cannot be read or its path does not fit the document.
    """
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r}: expected KEY=VALUE, such as "
                         "hotline.latency=\"2 h\"")
    key, _, text = assignment.partition("=")
    try:
        parts = _split_key_path(key.strip())
    except ValueError as exc:
        raise ValueError(f"override {assignment!r}: {exc}; write a dotted key path such as "
                         "parties.russia.compliance or rules[0].horizontal") from None
    try:
        value = parse_yaml(text, "--set")
    except ScenarioError as exc:
        raise ValueError(f"override {assignment!r}: the value is not valid YAML "
                         f"({exc.problems[0].message}); quote text values, such as "
                         "hotline.latency=\"2 h\"") from None
    root = copy.deepcopy(document) if document is not None else {}
    if not isinstance(root, dict):
        raise ValueError(f"override {assignment!r}: the scenario is not a mapping")
    node: Any = root
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = key_path(parts[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if part not in node or node[part] is None:
                    node[part] = {}
                node = node[part]
        elif isinstance(node, list):
            index = _list_index(node, part)
            if index is None:
                raise ValueError(f"override {assignment!r}: {where} does not exist "
                                 f"(the list has {len(node)} items)")
            if last:
                node[index] = value
            else:
                node = node[index]
        else:
            raise ValueError(f"override {assignment!r}: {key_path(parts[:depth])} is not a mapping "
                             "or a list, so it has no key " + repr(part))
    return root


def _list_index(items: list[Any], part: str | int) -> int | None:
    if isinstance(part, int):
        return part if 0 <= part < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == part:
            return i
    return None


def key_path(parts: Sequence[str | int]) -> str:
    """Write a key path as ``flights[2].speed``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
