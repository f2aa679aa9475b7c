"""Readers of the grading and testing keys of a spec file: `targets`, `rules`, `scorecards`, `tests`.

A mixin of the loader (`load._Loader`), which provides the YAML helpers used here.
"""

from __future__ import annotations

import datetime
import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from metricdsl.spec.definitions import (
    GRAINS,
    SEVERITIES,
    ExprText,
    Rule,
    Scorecard,
    ScorecardItem,
    SpecTest,
    Target,
    Thresholds,
)

THRESHOLD_KEYS = ("target", "warn", "fail")
TARGET_KEYS = (*THRESHOLD_KEYS, "when", "from", "until", "overrides")
OVERRIDE_KEYS = (*THRESHOLD_KEYS, "when", "from", "until")
RULE_KEYS = ("when", "severity", "message", "for", "description")
SCORECARD_KEYS = ("items", "cap", "title", "description")
ITEM_KEYS = ("weight", "floor", "ceiling", "critical")
TEST_KEYS = ("name", "given", "expect", "by", "grain", "tolerance", "ignore_min_n", "findings", "scorecard")


class GradingReaders:
    """Read targets, rules, scorecards and spec tests into `self.definitions`."""

    def target(self, name: str, name_node: Node, node: Node) -> Target | None:
        items = self.items(node, TARGET_KEYS)
        overrides = []
        if "overrides" in items:
            listed = items["overrides"][1]
            if not isinstance(listed, SequenceNode):
                self.report("MD003", "`overrides` takes a list of thresholds", listed)
            else:
                overrides = [self.thresholds(name, self.items(o, OVERRIDE_KEYS), o) for o in listed.value]
        base = self.thresholds(name, items, node)
        if not any(t is not None for t in (base.target, base.warn, base.fail)) and not overrides:
            self.report(
                "MD005",
                f"target of `{name}` has no `target`, `warn` or `fail`",
                name_node,
                'add a threshold such as `warn: "< 30"`',
            )
        return Target(name, base, tuple(overrides), self.at(name_node))

    def thresholds(self, metric: str, items: dict, node: Node) -> Thresholds:
        levels = {key: self.threshold(metric, items[key][1]) for key in THRESHOLD_KEYS if key in items}
        return Thresholds(
            **levels,
            when=self.expr(items["when"][1]) if "when" in items else None,
            start=self.date(items["from"][1]) if "from" in items else None,
            until=self.date(items["until"][1]) if "until" in items else None,
            location=self.at(node),
        )

    def threshold(self, metric: str, node: Node) -> ExprText | None:
        """`"< 30"` as the expression `metric < 30`, positioned on the threshold's text."""
        text = self.expr(node)
        if text is None:
            return None
        if not re.match(r"\s*(==|!=|<=|>=|<|>|(between|in|not in|is)\b)", text.text):
            self.report("MD006", f"threshold `{text.text}` is not a comparison", node, f'write it as "< {text.text}"')
            return None
        prefix = f"{metric} "
        start = text.offsets[0] if text.offsets else 0
        return ExprText(prefix + text.text, text.file, (start,) * len(prefix) + text.offsets, text.raw, text.style)

    def date(self, node: Node) -> datetime.date | None:
        value = self.scalar(node, "a date")
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if value is not None:
            self.report("MD006", f"`{value}` is not a date", node, "write dates as 2026-01-31")
        return None

    def rule(self, name: str, name_node: Node, node: Node) -> Rule | None:
        items = self.items(node, RULE_KEYS)
        if "when" not in items:
            self.report("MD005", f"rule `{name}` has no `when`", name_node, "add `when: <condition>`")
            return None
        when = self.expr(items["when"][1])
        if when is None:
            return None
        severity = self.choice(items["severity"][1], SEVERITIES) if "severity" in items else "warn"
        periods = self.periods(items["for"][1]) if "for" in items else 1
        return Rule(
            name,
            when,
            severity or "warn",
            self.expr(items["message"][1]) if "message" in items else None,
            periods,
            self.text(items["description"][1]) if "description" in items else None,
            self.at(name_node),
        )

    def periods(self, node: Node) -> int:
        value = self.scalar(node, "a number of periods")
        match = re.fullmatch(r"\s*(\d+)\s*(periods?)?\s*", str(value)) if value is not None else None
        if match is None or int(match.group(1)) < 1:
            self.report("MD006", f"`for` takes a number of periods, not `{value}`", node, "as in `for: 2 periods`")
            return 1
        return int(match.group(1))

    def scorecard(self, name: str, name_node: Node, node: Node) -> Scorecard | None:
        items = self.items(node, SCORECARD_KEYS)
        if "items" not in items:
            self.report("MD005", f"scorecard `{name}` has no `items`", name_node)
            return None
        entries = []
        for metric, metric_node, body in self.mapping(items["items"][1]):
            fields = self.items(body, ITEM_KEYS)
            numbers = {key: self.number(fields[key][1]) for key in ("weight", "floor", "ceiling") if key in fields}
            for key in ("floor", "ceiling"):
                if key not in fields:
                    self.report("MD005", f"scorecard item `{metric}` has no `{key}`", metric_node)
            if numbers.get("floor") is not None and numbers.get("floor") == numbers.get("ceiling"):
                self.report("MD006", f"scorecard item `{metric}`: floor and ceiling are equal", metric_node)
            if (numbers.get("weight") or 1) <= 0:
                self.report("MD006", f"scorecard item `{metric}`: weights are positive", fields["weight"][1])
            critical = "critical" in fields and self.scalar(fields["critical"][1]) is True
            entries.append(
                ScorecardItem(
                    metric,
                    **{k: v for k, v in numbers.items() if v is not None},
                    critical=critical,
                    location=self.at(metric_node),
                )
            )
        cap = self.number(items["cap"][1]) if "cap" in items else None
        return Scorecard(
            name,
            tuple(entries),
            cap if cap is not None else 50.0,
            self.text(items["title"][1]) if "title" in items else None,
            self.at(name_node),
        )

    def tests(self, node: Node) -> None:
        if not isinstance(node, SequenceNode):
            self.report("MD003", f"`tests` takes a list of tests, found {describe_node(node)}", node)
            return
        for item in node.value:
            test = self.test(item)
            if test is not None:
                self.definitions.tests.append(test)

    def test(self, node: Node) -> SpecTest | None:
        items = self.items(node, TEST_KEYS)
        for required in ("name", "expect"):
            if required not in items:
                self.report("MD005", f"a test has no `{required}`", node)
                return None
        expect_node = items["expect"][1]
        expect = self.scalar_tree(expect_node)
        rows = [expect] if isinstance(expect, dict) else expect
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            self.report("MD003", "`expect` takes metric values, or a list of them per group", expect_node)
            return None
        given = self.scalar_tree(items["given"][1]) if "given" in items else {}
        if not isinstance(given, dict) or not all(
            isinstance(v, list) and all(isinstance(r, dict) for r in v) for v in given.values()
        ):
            self.report("MD003", "`given` maps source names to lists of rows", items["given"][1])
            return None
        tolerance = self.number(items["tolerance"][1]) if "tolerance" in items else None
        return SpecTest(
            name=self.text(items["name"][1]) or "",
            given=given,
            expect=tuple(rows),
            by=self.texts(items["by"][1]) if "by" in items else (),
            grain=self.choice(items["grain"][1], GRAINS) if "grain" in items else None,
            tolerance=tolerance if tolerance is not None else 1e-6,
            ignore_min_n="ignore_min_n" in items and self.scalar(items["ignore_min_n"][1]) is True,
            findings=self.texts(items["findings"][1]) if "findings" in items else None,
            scorecard=self.text(items["scorecard"][1]) if "scorecard" in items else None,
            location=self.at(node),
            expect_location=self.at(items["expect"][0]),
        )

    def items(self, node: Node, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        """A mapping's (key node, value node) by key; a scalar stands for `{}` when nothing is allowed."""
        if isinstance(node, ScalarNode) and node.value == "":
            return {}
        return {key: (key_node, value) for key, key_node, value in self.mapping(node, allowed)}


def describe_node(node: Node | None) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"`{node.value}`" if isinstance(node, ScalarNode) and node.value else "nothing"
