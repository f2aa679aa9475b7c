"""Readers of the grading and testing keys of a spec file: `targets`, `rules`, `scorecards`, `tests`.

Each reader receives the file's `YamlReader`, as the loader's readers of sources and metrics do.
"""

from __future__ import annotations

import datetime
import re

from yaml.nodes import Node, SequenceNode

from metricdsl.spec.definitions import (
    GRAINS,
    ITEM_KEYS,
    OVERRIDE_KEYS,
    RULE_KEYS,
    SCORECARD_KEYS,
    SEVERITIES,
    TARGET_KEYS,
    TEST_KEYS,
    THRESHOLD_KEYS,
    ExprText,
    Rule,
    Scorecard,
    ScorecardItem,
    SpecTest,
    Target,
    Thresholds,
    WrittenBoolean,
)
from metricdsl.spec.yaml_reader import YamlReader, describe_node
from metricdsl.spec.yaml_traps import booleans_in_row_list, booleans_in_rows


def read_target(reader: YamlReader, name: str, name_node: Node, node: Node) -> Target:
    """The target of metric `name`: its base thresholds and the `overrides` that apply before them."""
    items = reader.items(node, TARGET_KEYS)
    overrides = []
    if "overrides" in items:
        listed = items["overrides"][1]
        if not isinstance(listed, SequenceNode):
            reader.report("MD003", "`overrides` takes a list of thresholds", listed)
        else:
            entries: list[Node] = listed.value
            overrides = [_thresholds(reader, name, reader.items(o, OVERRIDE_KEYS), o) for o in entries]
    base = _thresholds(reader, name, items, node)
    if not any(t is not None for t in (base.target, base.warn, base.fail)) and not overrides:
        reader.report(
            "MD005",
            f"target of `{name}` has no `target`, `warn` or `fail`",
            name_node,
            'add a threshold such as `warn: "< 30"`',
        )
    return Target(name, base, tuple(overrides), reader.at(name_node))


def _thresholds(reader: YamlReader, metric: str, items: dict[str, tuple[Node, Node]], node: Node) -> Thresholds:
    levels = {key: _threshold(reader, metric, items[key][1]) for key in THRESHOLD_KEYS if key in items}
    return Thresholds(
        target=levels.get("target"),
        warn=levels.get("warn"),
        fail=levels.get("fail"),
        when=reader.expr(items["when"][1]) if "when" in items else None,
        start=_date(reader, items["from"][1]) if "from" in items else None,
        until=_date(reader, items["until"][1]) if "until" in items else None,
        location=reader.at(node),
    )


def _threshold(reader: YamlReader, metric: str, node: Node) -> ExprText | None:
    """`"< 30"` as the expression `metric < 30`, positioned on the threshold's text."""
    text = reader.expr(node)
    if text is None:
        return None
    if not re.match(r"\s*(==|!=|<=|>=|<|>|(between|in|not in|is)\b)", text.text):
        reader.report("MD006", f"threshold `{text.text}` is not a comparison", node, f'write it as "< {text.text}"')
        return None
    prefix = f"{metric} "
    start = text.offsets[0] if text.offsets else 0
    return ExprText(prefix + text.text, text.file, (start,) * len(prefix) + text.offsets, text.raw, text.style)


def _date(reader: YamlReader, node: Node) -> datetime.date | None:
    value = reader.scalar(node, "a date")
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if value is not None:
        reader.report("MD006", f"`{value}` is not a date", node, "write dates as 2026-01-31")
    return None


def read_rule(reader: YamlReader, name: str, name_node: Node, node: Node) -> Rule | None:
    """A rule: its condition `when` (required), severity, message and number of periods."""
    items = reader.items(node, RULE_KEYS)
    if "when" not in items:
        reader.report("MD005", f"rule `{name}` has no `when`", name_node, "add `when: <condition>`")
        return None
    when = reader.expr(items["when"][1])
    if when is None:
        return None
    severity = reader.choice(items["severity"][1], SEVERITIES) if "severity" in items else "warn"
    periods = _periods(reader, items["for"][1]) if "for" in items else 1
    return Rule(
        name,
        when,
        severity or "warn",
        reader.expr(items["message"][1]) if "message" in items else None,
        periods,
        reader.text(items["description"][1]) if "description" in items else None,
        reader.at(name_node),
    )


def _periods(reader: YamlReader, node: Node) -> int:
    value = reader.scalar(node, "a number of periods")
    match = re.fullmatch(r"\s*(\d+)\s*(periods?)?\s*", str(value)) if value is not None else None
    if match is None or int(match.group(1)) < 1:
        reader.report("MD006", f"`for` takes a number of periods, not `{value}`", node, "as in `for: 2 periods`")
        return 1
    return int(match.group(1))


def read_scorecard(reader: YamlReader, name: str, name_node: Node, node: Node) -> Scorecard | None:
    """A scorecard: its `items` (required, each with `floor` and `ceiling`), cap and title."""
    items = reader.items(node, SCORECARD_KEYS)
    if "items" not in items:
        reader.report("MD005", f"scorecard `{name}` has no `items`", name_node)
        return None
    entries = []
    for metric, metric_node, body in reader.mapping(items["items"][1]):
        fields = reader.items(body, ITEM_KEYS)
        numbers = {key: reader.number(fields[key][1]) for key in ("weight", "floor", "ceiling") if key in fields}
        for key in ("floor", "ceiling"):
            if key not in fields:
                reader.report("MD005", f"scorecard item `{metric}` has no `{key}`", metric_node)
        if numbers.get("floor") is not None and numbers.get("floor") == numbers.get("ceiling"):
            reader.report("MD006", f"scorecard item `{metric}`: floor and ceiling are equal", metric_node)
        if (numbers.get("weight") or 1) <= 0:
            reader.report("MD006", f"scorecard item `{metric}`: weights are positive", fields["weight"][1])
        critical = "critical" in fields and reader.scalar(fields["critical"][1]) is True
        given = {key: number for key, number in numbers.items() if number is not None}
        entries.append(ScorecardItem(metric, **given, critical=critical, location=reader.at(metric_node)))
    cap = reader.number(items["cap"][1]) if "cap" in items else None
    return Scorecard(
        name,
        tuple(entries),
        cap if cap is not None else 50.0,
        reader.text(items["title"][1]) if "title" in items else None,
        reader.at(name_node),
    )


def read_tests(reader: YamlReader, node: Node) -> list[SpecTest]:
    """The spec tests of a `tests:` list that could be read."""
    if not isinstance(node, SequenceNode):
        reader.report("MD003", f"`tests` takes a list of tests, found {describe_node(node)}", node)
        return []
    items: list[Node] = node.value
    return [test for test in (_test(reader, item) for item in items) if test is not None]


def _test(reader: YamlReader, node: Node) -> SpecTest | None:
    items = reader.items(node, TEST_KEYS)
    for required in ("name", "expect"):
        if required not in items:
            reader.report("MD005", f"a test has no `{required}`", node)
            return None
    expect_node = items["expect"][1]
    expect = reader.scalar_tree(expect_node)
    rows = [expect] if isinstance(expect, dict) else expect
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        reader.report("MD003", "`expect` takes metric values, or a list of them per group", expect_node)
        return None
    given = reader.scalar_tree(items["given"][1]) if "given" in items else {}
    if not isinstance(given, dict) or not all(
        isinstance(v, list) and all(isinstance(r, dict) for r in v) for v in given.values()
    ):
        reader.report("MD003", "`given` maps source names to lists of rows", items["given"][1])
        return None
    name = reader.text(items["name"][1]) or ""
    if not reader.check_label("test", name, items["name"][1]):
        return None
    tolerance = reader.number(items["tolerance"][1]) if "tolerance" in items else None
    return SpecTest(
        name=name,
        given=given,
        expect=tuple(rows),
        by=reader.texts(items["by"][1]) if "by" in items else (),
        grain=reader.choice(items["grain"][1], GRAINS) if "grain" in items else None,
        tolerance=tolerance if tolerance is not None else 1e-6,
        ignore_min_n="ignore_min_n" in items and reader.scalar(items["ignore_min_n"][1]) is True,
        findings=reader.texts(items["findings"][1]) if "findings" in items else None,
        scorecard=reader.text(items["scorecard"][1]) if "scorecard" in items else None,
        location=reader.at(node),
        expect_location=reader.at(items["expect"][0]),
        booleans=_booleans(reader, items["given"][1] if "given" in items else None, expect_node),
    )


def _booleans(reader: YamlReader, given: Node | None, expect: Node) -> tuple[WrittenBoolean, ...]:
    """The values of a test's `given` and `expect` rows that YAML reads as booleans, as written."""
    found = [WrittenBoolean(None, key, value.value, reader.at(value)) for key, value in booleans_in_row_list(expect)]
    if given is not None:
        found[:0] = [WrittenBoolean(s, c, value.value, reader.at(value)) for s, c, value in booleans_in_rows(given)]
    return tuple(found)
