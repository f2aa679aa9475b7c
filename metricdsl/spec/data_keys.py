"""Readers of the keys that say what a source's files hold: a time zone, a CSV dialect, `on_invalid`, and a
column's domain (`values`, `range`, `format`), checked against the column's type.

Each reader receives the file's `YamlReader`, as the loader's readers do, and reports every mistake at its
position: an unknown zone with the zone it probably means, a format Polars would misread (see `date_formats`),
values that the column's type cannot hold.
"""

from __future__ import annotations

import codecs
import functools
import zoneinfo
from collections.abc import Callable
from typing import TypedDict

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from metricdsl.errors import Diagnostic, did_you_mean
from metricdsl.spec.date_formats import format_problem
from metricdsl.spec.definitions import (
    CALENDAR_KEYS,
    CSV_ENCODINGS,
    CSV_KEYS,
    ON_INVALID,
    WEEK_STARTS,
    Calendar,
    CsvDialect,
    Value,
)
from metricdsl.spec.yaml_reader import YamlReader, describe_node

NULL_TAG = "tag:yaml.org,2002:null"
NULL_WORDS = ("null", "Null", "NULL", "~")  # how YAML writes null: `on_invalid: null` means the word
NOT_ZONES = frozenset({"Factory", "localtime"})  # files of the zone database that are no zone Polars knows
# The kinds of column each domain key applies to.
VALUE_TYPES = ("int", "str", "bool")
RANGE_TYPES = ("int", "float", "duration")
FORMAT_TYPES = ("datetime", "date")


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA time zones of this machine's database (the `tzdata` package's where it has none)."""
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


def read_zone(reader: YamlReader, node: Node) -> str | None:
    """An IANA time zone name, such as `Europe/Berlin`."""
    name = _filled_text(reader, node, "timezone", "an IANA time zone such as Europe/Berlin")
    if name is None or name in known_zones():
        return name
    reader.report("MD006", f"`{name}` is not a time zone of the IANA database", node, _zone_hint(name))
    return None


def _zone_hint(name: str) -> str:
    zones = known_zones()
    if not zones:
        return "this machine has no time zone database: install the `tzdata` package"
    wanted = name.strip().replace(" ", "_").casefold()
    same = [zone for zone in sorted(zones) if zone.casefold() == wanted]
    cities = [zone for zone in sorted(zones) if zone.casefold().endswith("/" + wanted)]
    close = did_you_mean(name, sorted(zones))
    if same or cities:
        return f"did you mean `{(same or cities)[0]}`?"
    return close or "name the zone as the IANA database does, such as Europe/Berlin, America/New_York or UTC"


def read_on_invalid(reader: YamlReader, node: Node) -> str | None:
    """`null` or `error`: `null` is the word here, not YAML's null."""
    if isinstance(node, ScalarNode) and node.tag == NULL_TAG:
        if node.value in NULL_WORDS:
            return "null"
        reader.report("MD006", "`on_invalid` is empty", node, "write `on_invalid: null` or `on_invalid: error`")
        return None
    return reader.choice(node, ON_INVALID)


def read_calendar(reader: YamlReader, key_node: Node, node: Node) -> Calendar:
    """The project's `calendar:`: its time zone and the day its weeks start on."""
    zone, week_start = None, WEEK_STARTS[0]
    for key, _, value in reader.mapping(node, CALENDAR_KEYS):
        if key == "timezone":
            zone = read_zone(reader, value)
        else:
            week_start = _week_start(reader, value) or week_start
    return Calendar(zone, week_start, reader.at(key_node))


def _week_start(reader: YamlReader, node: Node) -> str | None:
    """The day weeks start on: `monday` (ISO weeks) or `sunday`."""
    if _filled_text(reader, node, "week_start", "write `week_start: monday` or `week_start: sunday`") is None:
        return None
    return reader.choice(node, WEEK_STARTS)


# -- CSV dialects ----------------------------------------------------------------------------------


class _CsvFields(TypedDict, total=False):
    separator: str | None
    decimal_comma: bool | None
    encoding: str | None
    null_values: tuple[str, ...] | None
    true_values: tuple[str, ...] | None
    false_values: tuple[str, ...] | None
    skip_rows: int | None
    comment_prefix: str | None


def read_csv(reader: YamlReader, node: Node) -> CsvDialect:
    """A source's `csv:` dialect; what is not given (or not valid) keeps its default."""
    readers: dict[str, Callable[[Node], _CsvFields]] = {
        "separator": lambda n: {"separator": _separator(reader, n)},
        "decimal_comma": lambda n: {"decimal_comma": _flag(reader, n, "decimal_comma")},
        "encoding": lambda n: {"encoding": _encoding(reader, n)},
        "null_values": lambda n: {"null_values": _texts_as_written(reader, n, "null_values")},
        "true_values": lambda n: {"true_values": _texts_as_written(reader, n, "true_values", empty=False)},
        "false_values": lambda n: {"false_values": _texts_as_written(reader, n, "false_values", empty=False)},
        "skip_rows": lambda n: {"skip_rows": _count(reader, n, "skip_rows")},
        "comment_prefix": lambda n: {"comment_prefix": _comment_prefix(reader, n)},
    }
    fields: _CsvFields = {}
    for value in reader.fields(node, CSV_KEYS, readers):
        fields.update(value)
    given = {key: value for key, value in fields.items() if value is not None}
    dialect = CsvDialect(**given, location=reader.at(node))  # type: ignore[arg-type]
    nodes = {key: value for key, value in value_nodes(node).items() if key in CSV_KEYS}
    if set(nodes) <= set(given):  # a key that could not be read was reported already
        _check_dialect(reader, dialect, nodes)
    return dialect


def _check_dialect(reader: YamlReader, dialect: CsvDialect, nodes: dict[str, Node]) -> None:
    """What each key allows alone but the keys together do not: a decimal comma that is also the separator,
    a text that reads both true and false."""
    if dialect.decimal_comma and dialect.separator == ",":
        at = nodes.get("separator", nodes.get("decimal_comma"))
        message = "with `decimal_comma: true` the separator cannot be `,`: `12,5` would be two fields"
        reader.report("MD006", message, at, 'write `separator: ";"`, as exports with decimal commas do')
    trues = {text.casefold() for text in dialect.true_values}
    both = [text for text in dialect.false_values if text.casefold() in trues]
    if both:
        which = ", ".join(f"`{text}`" for text in both)
        given = "false_values" if "false_values" in nodes else "true_values"
        defaults = "" if {"true_values", "false_values"} <= set(nodes) else " (the other list is the default)"
        message = f"{which} would read both true and false: it is in `true_values` and `false_values`{defaults}"
        reader.report("MD006", message, nodes.get(given), "give each text to one list only; booleans match in any case")


def _separator(reader: YamlReader, node: Node) -> str | None:
    text = _filled_text(reader, node, "separator", 'write it quoted, as `separator: ";"`')
    if text == "\\t":  # `'\t'` or `\t` unquoted: two characters that mean a tab
        return "\t"
    if text is not None and (len(text) != 1 or not text.isascii() or text in '"\r\n'):
        hint = 'write one character, quoted, as `separator: ";"`, or `"\\t"` for a tab'
        reader.report("MD006", f"the separator `{text}` is not one character other than a quote or a line end", node, hint)
        return None
    return text


def _encoding(reader: YamlReader, node: Node) -> str | None:
    name = _filled_text(reader, node, "encoding", f"one of: {', '.join(CSV_ENCODINGS)}")
    if name is None or name in CSV_ENCODINGS:
        return name
    same = [encoding for encoding in CSV_ENCODINGS if _codec(encoding) == _codec(name)]
    hint = f"did you mean `{same[0]}`?" if same else did_you_mean(name.lower(), CSV_ENCODINGS)
    message = f"`{name}` is not an encoding metricdsl reads: one of {', '.join(CSV_ENCODINGS)}"
    reader.report("MD006", message, node, hint or f"one of: {', '.join(CSV_ENCODINGS)}")
    return None


def _codec(name: str) -> str | None:
    """Python's name of an encoding (`utf8` and `UTF-8` are both `utf-8`), or None for no encoding Python knows."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _texts_as_written(reader: YamlReader, node: Node, key: str, *, empty: bool = True) -> tuple[str, ...] | None:
    """A list of texts as they stand in the file: `[NA, yes, 1]` are the texts `NA`, `yes` and `1`, not YAML's
    null, boolean and number, since they are compared with the file's text."""
    example = {"null_values": '["", NA, "-"]', "true_values": "[Y, yes, 1]", "false_values": "[N, no, 0]"}[key]
    if not isinstance(node, SequenceNode):
        reader.report("MD003", f"`{key}` takes a list of texts, found {describe_node(node)}", node, f"as `{key}: {example}`")
        return None
    items: list[Node] = node.value
    texts = []
    for item in items:
        if not isinstance(item, ScalarNode):
            reader.report(
                "MD003", f"`{key}` takes a list of texts, found {describe_node(item)} in it", item, f"as `{key}: {example}`"
            )
            return None
        texts.append(str(item.value))
    if not texts and not empty:
        reader.report("MD006", f"`{key}` is empty: no text would read as a boolean", node, f"as `{key}: {example}`")
        return None
    return tuple(texts)


def _flag(reader: YamlReader, node: Node, key: str) -> bool | None:
    value = reader.scalar(node, "true or false")
    if isinstance(value, bool):
        return value
    reader.report("MD006", f"`{key}` takes true or false, found {describe_node(node)}", node, f"write `{key}: true`")
    return None


def _count(reader: YamlReader, node: Node, key: str) -> int | None:
    count = reader.whole_number(node, f"give the number of lines before the header, as `{key}: 2`")
    if count is not None and count < 0:
        reader.report("MD006", f"`{key}` counts lines, found {count}", node, "give 0 or more")
        return None
    return count


def _comment_prefix(reader: YamlReader, node: Node) -> str | None:
    text = _filled_text(reader, node, "comment_prefix", 'as `comment_prefix: "#"`')
    if text is not None and ("\n" in text or "\r" in text):
        reader.report("MD006", "`comment_prefix` holds a line end", node, 'as `comment_prefix: "#"`')
        return None
    return text


def _filled_text(reader: YamlReader, node: Node, key: str, hint: str) -> str | None:
    """A text that is not empty (nor YAML's null)."""
    text = reader.text(node)
    if not text and isinstance(node, ScalarNode):
        reader.report("MD006", f"`{key}` is empty", node, hint)
        return None
    return text


def value_nodes(node: Node) -> dict[str, Node]:
    """The value node of each key of a mapping (the first, when one is repeated); none for another node."""
    pairs: list[tuple[Node, Node]] = node.value if isinstance(node, MappingNode) else []
    found: dict[str, Node] = {}
    for key, value in pairs:
        found.setdefault(str(key.value), value)
    return found


# -- a column's domain -----------------------------------------------------------------------------


def read_values(reader: YamlReader, node: Node) -> tuple[Value, ...] | None:
    """`values:`, a list of single values as YAML reads them (`fit_domain` checks them against the type)."""
    if not isinstance(node, SequenceNode):
        reader.report("MD003", f"`values` takes a list, found {describe_node(node)}", node, "as `values: [phone, chat]`")
        return None
    items: list[Node] = node.value
    values = [reader.scalar(item, "a single value") for item in items]
    if not values:
        reader.report("MD006", "`values` is empty: no value would be valid", node, "list the valid values, or remove it")
        return None
    read: list[Value] = []
    for item, value in zip(items, values, strict=True):
        if isinstance(value, (str, int, float, bool)):
            read.append(value)
        elif item.tag == NULL_TAG:
            reader.report("MD006", "`values` holds nothing (null)", item, "missing values are always allowed: remove it")
        elif value is not None:  # a date: no column with values holds dates
            reader.report("MD006", f"`values` holds `{item.value}`, which YAML reads as a date", item, _quote(item))
    return tuple(read) if len(read) == len(values) else None


def read_format(reader: YamlReader, node: Node) -> str | None:
    """A strftime `format:`, each mistake reported at the directive at fault."""
    example = 'as `format: "%m/%d/%Y %H:%M"`'
    if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        reader.report("MD003", f"`format` takes a text, found {describe_node(node)}", node, example)
        return None
    text = reader.expr(node)  # the format's text, with the position of each character
    if text is None or not text.text:
        reader.report("MD013", "`format` is empty", node, example)
        return None
    problem = format_problem(text.text)
    if problem is None:
        return text.text
    location = text.location(problem.start, problem.end) if problem.end is not None else reader.at(node)
    reader.diagnostics.append(Diagnostic.make("MD013", problem.message, location, problem.hint))
    return None


class Domain(TypedDict, total=False):
    values: tuple[Value, ...] | None
    range: tuple[float, float] | None
    format: str | None


def fit_domain(reader: YamlReader, name: str, kind: str, domain: Domain, nodes: dict[str, Node]) -> Domain:
    """`domain` without what the column's type (`kind`) cannot hold, each reported (MD014)."""
    fitting = domain.copy()
    if domain.get("values") is not None and kind not in VALUE_TYPES:
        hint = "give its bounds with `range: [low, high]`" if kind in RANGE_TYPES else "remove it"
        _misfit(reader, "values", VALUE_TYPES, name, kind, nodes["values"], hint)
        fitting["values"] = None
    elif domain.get("values") is not None:
        items: list[Node] = nodes["values"].value
        misfits = [(i, v) for i, v in zip(items, domain.get("values") or (), strict=True) if not _holds(kind, v)]
        if misfits:  # reported once, at the first
            (item, value), more = misfits[0], len(misfits) - 1
            others = f" ({more} more do not fit either)" if more else ""
            message = f"`values` of {kind} column `{name}` holds {_what(item, value)}{others}"
            reader.report("MD014", message, item, _hint(kind, item))
            fitting["values"] = None
    if domain.get("range") is not None and kind not in RANGE_TYPES:
        hint = "list the valid values with `values: [...]`" if kind in VALUE_TYPES else "remove it"
        _misfit(reader, "range", RANGE_TYPES, name, kind, nodes["range"], hint)
        fitting["range"] = None
    if domain.get("format") is not None and kind not in FORMAT_TYPES:
        _misfit(reader, "format", FORMAT_TYPES, name, kind, nodes["format"], "remove it, or declare `type: datetime`")
        fitting["format"] = None
    return fitting


def _misfit(reader: YamlReader, key: str, kinds: tuple[str, ...], name: str, kind: str, node: Node, hint: str) -> None:
    message = f"`{key}` applies to {', '.join(kinds[:-1])} and {kinds[-1]} columns; `{name}` is {kind}"
    reader.report("MD014", message, node, hint)


def _holds(kind: str, value: Value) -> bool:
    if kind == "int":  # a whole number that a 64-bit column can hold
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    return isinstance(value, {"str": str, "bool": bool}[kind])


def _what(item: Node, value: Value) -> str:
    """`yes`, which YAML reads as a boolean."""
    read_as = {bool: "a boolean", int: "a whole number", float: "a number", str: "text"}[type(value)]
    return f"`{item.value}`, which YAML reads as {read_as}"


def _quote(item: Node) -> str:
    return f'quote it: `"{item.value}"`'


def _hint(kind: str, item: Node) -> str:
    if kind == "str":
        return _quote(item) + ", and any other that YAML reads as a boolean, a number or a date"
    if kind == "int":
        return "list whole numbers, as `values: [1, 2, 3]`, or declare the column `type: str`"
    return "list `true` or `false`, or declare the column `type: str`"
