"""The outcomes of the specs' own tests (`metricdsl test`), one line per test as pytest writes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

import click

from metricdsl.render.github import inert
from metricdsl.render.terminal import inline
from metricdsl.spec.definitions import SpecTest


class SpecFailure(Protocol):
    """One failure of a spec test (`metricdsl.tools.spectest.Failure` is one)."""

    @property
    def kind(self) -> Literal["error", "missing_finding", "unexpected_finding", "no_group", "wrong_value"]: ...

    @property
    def name(self) -> str | None: ...

    @property
    def group(self) -> Mapping[str, object]: ...

    @property
    def more(self) -> int: ...

    @property
    def expected(self) -> object: ...

    @property
    def actual(self) -> object: ...

    @property
    def groups(self) -> Sequence[Mapping[str, object]]: ...

    @property
    def error(self) -> str | None: ...


class SpecOutcome(Protocol):
    """How one spec test went (`metricdsl.tools.spectest.Outcome` is one)."""

    @property
    def test(self) -> SpecTest: ...

    @property
    def failures(self) -> Sequence[SpecFailure]: ...

    @property
    def passed(self) -> bool: ...


def outcomes_report(outcomes: Sequence[SpecOutcome]) -> str:
    """`file:line: name PASSED`, or FAILED with each failure and where the expectation is; then the counts.

    Names, paths and failures are written one line each, with control characters visible (`terminal.inline`).
    """
    lines = []
    for outcome in outcomes:
        test = outcome.test
        where = f"{inline(test.location.file)}:{test.location.line}" if test.location else "?"
        if outcome.passed:
            lines.append(f"{where}: {inline(test.name)} {click.style('PASSED', fg='green')}")
            continue
        lines.append(f"{where}: {inline(test.name)} {click.style('FAILED', fg='red', bold=True)}")
        lines += [f"    {inline(failure_text(failure))}" for failure in outcome.failures]
        if test.expect_location:
            lines.append(f"    --> {inline(test.expect_location.file)}:{test.expect_location.line}")
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{len(outcomes) - failed} passed, {failed} failed")
    return inert("\n".join(lines))


def failure_text(failure: SpecFailure) -> str:
    """One failure as a sentence: `asa (team=a): expected 16, got 15.0`, `unexpected finding `slower``..."""
    match failure.kind:
        case "error":
            return failure.error or ""
        case "missing_finding":
            return f"expected finding `{failure.name}` did not fire"
        case "unexpected_finding":
            return f"unexpected finding `{failure.name}`"
        case "no_group":
            listed = "; ".join(_keys(found) for found in failure.groups)
            more = f"; and {failure.more:,} more" if failure.more else ""
            return f"no group {_keys(failure.group)}; groups found: {listed}{more}"
        case "wrong_value":
            label = _keys(failure.group)
            where = f" ({label})" if label else ""
            return f"{failure.name}{where}: expected {failure.expected}, got {failure.actual}"


def _keys(group: Mapping[str, object]) -> str:
    """A group by its keys: `team=a, week=2026-W02`."""
    return ", ".join(f"{k}={v}" for k, v in group.items())
