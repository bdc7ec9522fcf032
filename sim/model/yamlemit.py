"""Writing plain data as YAML text fast, byte for byte as PyYAML's ``yaml.dump`` writes it.

PyYAML's dumper first represents every value of a document as a node in Python, then its
emitter asks the resolver twice about every scalar: for a large run's ``scenario.yaml``
that is most of its writing time (box-10000-24h's 5 MB: 2.3 s). Plain data (dicts, lists,
str, int, float, bool, None, no object written twice) goes here straight to the emitter
as events instead: each scalar's text is PyYAML's own representer's, its implicit flags its
own resolver's (asked once per distinct text), each collection's flow style the
rule its representer applies. Anything else is handed to ``yaml.dump``.
"""

from __future__ import annotations

import io
from typing import Any

import yaml

_STR, _MAP, _SEQ = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:map",
                    "tag:yaml.org,2002:seq")
_SCALAR_TYPES = (str, int, float, bool, type(None))


class _NotPlain(Exception):
    """The document holds something other than plain data, or one object twice."""


def dump_yaml(document: Any, *, dumper: type[yaml.SafeDumper], block: type | None = None,
              width: int | None = None, allow_unicode: bool = False) -> str:
    """``yaml.dump(document, Dumper=dumper, sort_keys=False, default_flow_style=None,
    width=width, allow_unicode=allow_unicode)``, with mappings of type ``block`` (a dict
    subclass that ``dumper`` writes in block style) one key a line."""
    try:
        events = _events(document, dumper(io.StringIO()), block)
    except _NotPlain:
        return yaml.dump(document, Dumper=dumper, sort_keys=False, default_flow_style=None,
                         width=width, allow_unicode=allow_unicode)
    return yaml.emit(events, Dumper=dumper, width=width, allow_unicode=allow_unicode)


def _events(document: Any, representer: yaml.SafeDumper, block: type | None
            ) -> list[yaml.Event]:
    """The events PyYAML's serializer would emit for ``document`` (raises _NotPlain)."""
    resolve = representer.resolve
    represent_float = representer.represent_float
    scalars: dict[tuple[str, str], yaml.ScalarEvent] = {}  # by tag and text
    strings: dict[str, yaml.ScalarEvent] = {}  # the same for text values, by the text
    quoted: dict[str, bool] = {}  # by tag: whether a quoted scalar needs no tag
    seen: set[int] = set()  # containers met: one met twice would be an anchor and alias
    events: list[yaml.Event] = [yaml.StreamStartEvent(encoding=None),
                                yaml.DocumentStartEvent(explicit=False)]
    append = events.append

    def event_of(tag: str, text: str) -> yaml.ScalarEvent:
        event = scalars.get((tag, text))
        if event is None:
            if tag not in quoted:  # a quoted text's tag is the resolver's default, any text
                quoted[tag] = resolve(yaml.ScalarNode, text, (False, True)) == tag
            implicit = (resolve(yaml.ScalarNode, text, (True, False)) == tag, quoted[tag])
            event = scalars[tag, text] = yaml.ScalarEvent(None, tag, implicit, text)
        return event

    def scalar(value: Any) -> yaml.ScalarEvent:
        kind = value.__class__
        if kind is str:
            event = strings.get(value)
            if event is None:
                event = strings[value] = event_of(_STR, value)
            return event
        if kind is float:
            node = represent_float(value)
            return event_of(node.tag, node.value)
        if kind is bool:
            return event_of("tag:yaml.org,2002:bool", "true" if value else "false")
        if kind is int:
            return event_of("tag:yaml.org,2002:int", str(value))
        return event_of("tag:yaml.org,2002:null", "null")

    def walk(value: Any) -> None:
        kind = value.__class__
        if id(value) in seen:
            raise _NotPlain
        seen.add(id(value))
        if kind is dict or (block is not None and kind is block):
            items = value.items()
            # The representer's rule: a mapping of scalars only is written in flow style.
            flow = kind is dict and all(k.__class__ in _SCALAR_TYPES
                                        and v.__class__ in _SCALAR_TYPES for k, v in items)
            append(yaml.MappingStartEvent(None, _MAP, True, flow_style=flow))
            for item_key, item_value in items:
                if item_key.__class__ not in _SCALAR_TYPES:
                    raise _NotPlain
                append(scalar(item_key))
                if item_value.__class__ in _SCALAR_TYPES:
                    append(scalar(item_value))
                else:
                    walk(item_value)
            append(yaml.MappingEndEvent())
        elif kind is list:
            flow = all(item.__class__ in _SCALAR_TYPES for item in value)
            append(yaml.SequenceStartEvent(None, _SEQ, True, flow_style=flow))
            for item in value:
                if item.__class__ in _SCALAR_TYPES:
                    append(scalar(item))
                else:
                    walk(item)
            append(yaml.SequenceEndEvent())
        else:
            raise _NotPlain

    if document.__class__ in _SCALAR_TYPES:
        append(scalar(document))
    else:
        walk(document)
    events += [yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent()]
    return events
