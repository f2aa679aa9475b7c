"""The outcomes of the specs' own tests (`metricdsl test`), one line per test as pytest writes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import click

from metricdsl.spec.definitions import SpecTest


class SpecOutcome(Protocol):
    """How one spec test went (`metricdsl.tools.spectest.Outcome` is one)."""

    @property
    def test(self) -> SpecTest: ...

    @property
    def failures(self) -> Sequence[str]: ...

    @property
    def passed(self) -> bool: ...


def outcomes_report(outcomes: Sequence[SpecOutcome]) -> str:
    """`file:line: name PASSED`, or FAILED with each failure and where the expectation is; then the counts."""
    lines = []
    for outcome in outcomes:
        test = outcome.test
        where = f"{test.location.file}:{test.location.line}" if test.location else "?"
        if outcome.passed:
            lines.append(f"{where}: {test.name} {click.style('PASSED', fg='green')}")
            continue
        lines.append(f"{where}: {test.name} {click.style('FAILED', fg='red', bold=True)}")
        lines += [f"    {failure}" for failure in outcome.failures]
        if test.expect_location:
            lines.append(f"    --> {test.expect_location.file}:{test.expect_location.line}")
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{len(outcomes) - failed} passed, {failed} failed")
    return "\n".join(lines)
