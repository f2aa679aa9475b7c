"""`metricdsl diff` as text for a terminal, Markdown for a pull request's comment, and JSON (`metricdsl-diff/1`).

Text and Markdown show the largest `TOP` value changes and findings, and count the rest; JSON holds everything.
Names, canonical texts and messages come from specs and data: text writes them with `terminal.inline`, Markdown
escapes them (`markdown.cell`, and code blocks fenced longer than any run of backticks in them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from metricdsl.grading.findings import Finding, Group
from metricdsl.render import markdown
from metricdsl.render.findings import finding_json, message
from metricdsl.render.terminal import inline, multiline
from metricdsl.render.values import counted, format_change, format_value

FORMATS = ("text", "markdown", "json")
SCHEMA = "metricdsl-diff/1"
TOP = 10  # value changes and findings shown before the rest are counted


# What the renderers read of a diff's records (`metricdsl.tools.diff` makes them: `Diff`, `Change`, ...).


class Change(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def change(self) -> str: ...
    @property
    def old_name(self) -> str | None: ...
    @property
    def old_text(self) -> str | None: ...
    @property
    def new_text(self) -> str | None: ...
    @property
    def old_place(self) -> str | None: ...
    @property
    def new_place(self) -> str | None: ...
    @property
    def reach(self) -> tuple[str, ...]: ...


class ValueChange(Protocol):
    @property
    def metric(self) -> str: ...
    @property
    def group(self) -> Group: ...
    @property
    def period(self) -> object: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def old(self) -> float | None: ...
    @property
    def new(self) -> float | None: ...
    @property
    def delta(self) -> float | None: ...
    @property
    def relative(self) -> float | None: ...
    @property
    def old_status(self) -> str | None: ...
    @property
    def new_status(self) -> str | None: ...


class ScoreChange(Protocol):
    @property
    def scorecard(self) -> str: ...
    @property
    def group(self) -> Group: ...
    @property
    def period(self) -> object: ...
    @property
    def old(self) -> float | None: ...
    @property
    def new(self) -> float | None: ...


class Numbers(Protocol):
    @property
    def skipped(self) -> str | None: ...
    @property
    def by(self) -> tuple[str, ...]: ...
    @property
    def grain(self) -> str | None: ...
    @property
    def compared(self) -> tuple[str, ...]: ...
    @property
    def head_only(self) -> tuple[str, ...]: ...
    @property
    def base_only(self) -> tuple[str, ...]: ...
    @property
    def rows(self) -> int: ...
    @property
    def values(self) -> Sequence[ValueChange]: ...
    @property
    def appeared(self) -> Sequence[Finding]: ...
    @property
    def disappeared(self) -> Sequence[Finding]: ...
    @property
    def scores(self) -> Sequence[ScoreChange]: ...


class Diff(Protocol):
    @property
    def base(self) -> str: ...
    @property
    def head(self) -> str: ...
    @property
    def changes(self) -> Sequence[Change]: ...
    @property
    def numbers(self) -> Numbers: ...


def render(diff: Diff, output_format: str) -> str:
    """The diff in `output_format` (one of `FORMATS`)."""
    return RENDERERS[output_format](diff)


def summary(diff: Diff) -> str:
    """One line: `3 definitions changed (1 renamed, 2 changed); 148 values moved, 70 findings appear, 0 disappear`."""
    kinds = [(sum(c.change == k for c in diff.changes), k) for k in ("added", "removed", "renamed", "changed")]
    parts = ", ".join(f"{n} {k}" for n, k in kinds if n)
    line = f"{counted(len(diff.changes), 'definition')} changed" + (f" ({parts})" if parts else "")
    numbers = diff.numbers
    if numbers.skipped is not None:  # and why, on a line of its own
        return line
    statuses = sum(v.old_status != v.new_status for v in numbers.values)
    return (
        f"{line}; {counted(len(numbers.values), 'value')} moved ({statuses} with a status change), "
        f"{counted(len(numbers.appeared), 'finding')} appear, {len(numbers.disappeared)} disappear, "
        f"{counted(len(numbers.scores), 'score')} moved"
    )


# -- text --------------------------------------------------------------------------------------------------------------


def as_text(diff: Diff) -> str:
    lines = [f"{inline(diff.base)} → {inline(diff.head)}: {summary(diff)}"]
    for change in diff.changes:
        lines += ["", _heading(change, inline), *(f"  {inline(line)}" for line in _text_lines(change))]
        if change.reach:
            lines.append(f"  reaches: {inline(', '.join(change.reach))}")
    numbers = diff.numbers
    if numbers.skipped is not None:
        return "\n".join([*lines, "", f"numbers skipped: {inline(numbers.skipped)}"])
    lines += ["", _layout(numbers)]
    if numbers.values:
        lines += ["", *(f"  {inline(_value_line(v))}" for v in numbers.values[:TOP]), *_more(numbers.values)]
    for sign, found, what in (("+", numbers.appeared, "appear"), ("-", numbers.disappeared, "disappear")):
        if found:
            lines += ["", f"findings that {what}: {len(found)}"]
            lines += [f"  {sign} {inline(_finding_line(f))}" for f in found[:TOP]] + _more(found)
    if numbers.scores:
        lines += ["", "scores that moved:", *(f"  {inline(_score_line(s))}" for s in numbers.scores[:TOP])]
        lines += _more(numbers.scores)
    return "\n".join(lines)


def _heading(change: Change, escape: Callable[[object], str]) -> str:
    name = f"{change.old_name} → {change.name}" if change.old_name else "" if change.kind == change.name else change.name
    places = [p for p in (change.old_place, change.new_place) if p]
    where = " → ".join(dict.fromkeys(places)) if change.change == "changed" else " → ".join(places)
    return " ".join(filter(None, (change.change, change.kind, escape(name), f"({escape(where)})")))


def _text_lines(change: Change) -> list[str]:
    """The lines of the canonical text that differ: `- ` the old ones, `+ ` the new ones."""
    old = (change.old_text or "").splitlines()
    new = (change.new_text or "").splitlines()
    return [f"- {line}" for line in old if line not in new] + [f"+ {line}" for line in new if line not in old]


def _layout(numbers: Numbers) -> str:
    by = ", ".join(numbers.by) or "no dimension"
    grain = f" and {numbers.grain}" if numbers.grain else ""
    names = f" ({', '.join(numbers.compared)})" if numbers.compared else ""
    line = (
        f"numbers by {by}{grain}: {counted(len(numbers.compared), 'metric')} compared{names}, "
        f"{counted(numbers.rows, 'value')} of groups and periods, {len(numbers.values)} moved"
    )
    for side, alone in (("head", numbers.head_only), ("base", numbers.base_only)):
        if alone:
            line += f"; {counted(len(alone), 'metric')} of the {side} alone, computed for findings ({', '.join(alone)})"
    return line


def _where(value: ValueChange | ScoreChange | Finding) -> str:
    parts = [str(v) for v in value.group.values()] + ([str(value.period)] if value.period is not None else [])
    return " ".join(parts) or "all"


def _value_line(value: ValueChange) -> str:
    status = "" if value.old_status == value.new_status else f"  {_statuses(value)}"
    return f"{value.metric} {_where(value)}: {_values(value)}{status}"


def _values(value: ValueChange) -> str:
    moved = f"{format_value(value.old, value.unit)} → {format_value(value.new, value.unit)}"
    if not value.delta:  # no value on one side, or the same value
        return moved
    relative = f", {value.relative * 100:+.1f}%" if value.relative is not None else ""
    return f"{moved} ({format_change(value.delta, value.unit)}{relative})"


def _statuses(value: ValueChange) -> str:
    """`ok → warn`; `n/a` on a side without this group and period."""
    return f"{value.old_status or 'n/a'} → {value.new_status or 'n/a'}"


def _finding_line(finding: Finding) -> str:
    return f"{finding.severity} {finding.name} {_where(finding)}: {message(finding)}"


def _score_line(score: ScoreChange) -> str:
    return f"{score.scorecard} {_where(score)}: {_points(score.old)} → {_points(score.new)}"


def _points(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.1f}"


def _more(items: Sequence[object]) -> list[str]:
    return [f"  … and {len(items) - TOP} more (--format json lists them all)"] if len(items) > TOP else []


# -- markdown ----------------------------------------------------------------------------------------------------------


def as_markdown(diff: Diff) -> str:
    """A heading with the summary, a table of the definition changes and one of the largest value and status changes,
    and collapsible sections (`<details>`) for the canonical texts and the rest; at most `MARKDOWN_LIMIT` characters
    where it can (a pull request's comment holds no more): each list is cut shorter until the text fits."""
    for limit in MARKDOWN_ROWS:
        text = _markdown(diff, limit)
        if len(text) <= MARKDOWN_LIMIT:
            break
    return text


# A comment on GitHub holds at most 65,536 characters; each list is cut to fewer items until the text fits.
MARKDOWN_LIMIT = 60_000
MARKDOWN_ROWS: tuple[int | None, ...] = (None, 500, 200, 100, 50, 20, TOP)


def _markdown(diff: Diff, limit: int | None) -> str:
    cell = markdown.cell
    lines = [f"### metricdsl diff: {cell(summary(diff))}", "", f"{cell(diff.base)} → {cell(diff.head)}"]
    if diff.changes:
        rows: list[tuple[str, ...]] = [
            (
                c.change,
                c.kind,
                f"{c.old_name} → {c.name}" if c.old_name else c.name,
                " → ".join(dict.fromkeys(p for p in (c.old_place, c.new_place) if p)),
                ", ".join(c.reach),
            )
            for c in diff.changes
        ]
        lines += ["", *markdown.table(("change", "kind", "name", "where", "reaches"), rows[:limit]), *_cut(rows, limit)]
        texts = [_fenced(_heading(c, str), _text_lines(c)) for c in diff.changes if _text_lines(c)]
        if texts:
            shown = [line for text in texts[:limit] for line in text] + _cut(texts, limit)
            lines += ["", *_details("Definitions, old and new", shown)]
    numbers = diff.numbers
    if numbers.skipped is not None:
        return "\n".join([*lines, "", f"Numbers skipped: {cell(numbers.skipped)}", ""])
    lines += ["", cell(_layout(numbers))]
    header = ("metric", "group", "old", "new", "change", "status")
    rows = [_value_row(v) for v in numbers.values]
    if rows:
        lines += ["", "#### Largest changes", "", *markdown.table(header, rows[:TOP])]
    if len(rows) > TOP:
        rest = rows[TOP:]
        table = markdown.table(header, rest[:limit]) + _cut(rest, limit)
        lines += ["", *_details(f"{len(rest)} more value changes", table)]
    for found, what in ((numbers.appeared, "appear"), (numbers.disappeared, "disappear")):
        if found:
            table = markdown.table(("severity", "finding", "group", "message"), [_finding_row(f) for f in found[:limit]])
            lines += ["", *_details(f"{counted(len(found), 'finding')} that {what}", table + _cut(found, limit))]
    if numbers.scores:
        table = markdown.table(
            ("scorecard", "group", "old", "new"),
            [(s.scorecard, _where(s), _points(s.old), _points(s.new)) for s in numbers.scores[:limit]],
        )
        lines += ["", *_details(f"{counted(len(numbers.scores), 'score')} moved", table + _cut(numbers.scores, limit))]
    return "\n".join([*lines, ""])


def _cut(items: Sequence[object], limit: int | None) -> list[str]:
    """The line that counts the items left out of a list cut to `limit`, if any."""
    return ["", f"… and {len(items) - limit} more (`--format json` lists them all)"] if limit and len(items) > limit else []


def _value_row(value: ValueChange) -> tuple[str, ...]:
    status = "" if value.old_status == value.new_status else _statuses(value)
    change = format_change(value.delta, value.unit) if value.delta else ""
    if value.delta and value.relative is not None:
        change += f" ({value.relative * 100:+.1f}%)"
    return (
        value.metric,
        _where(value),
        format_value(value.old, value.unit),
        format_value(value.new, value.unit),
        change,
        status,
    )


def _finding_row(finding: Finding) -> tuple[str, ...]:
    return (finding.severity, finding.name, _where(finding), message(finding))


def _details(summary_text: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{markdown.cell(summary_text)}</summary>", "", *body, "", "</details>"]


def _fenced(title: str, lines: list[str]) -> list[str]:
    """A `diff` code block under its title; the fence is longer than any run of backticks in the lines."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [markdown.cell(title), "", f"{fence}diff", *(multiline(line) for line in lines), fence, ""]


# -- json --------------------------------------------------------------------------------------------------------------


def as_json(diff: Diff) -> str:
    """Everything, in the schema `metricdsl-diff/1`."""
    numbers = diff.numbers
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "base": diff.base,
        "head": diff.head,
        "changes": [
            {
                "kind": c.kind,
                "name": c.name,
                "change": c.change,
                "old_name": c.old_name,
                "old": c.old_text,
                "new": c.new_text,
                "old_place": c.old_place,
                "new_place": c.new_place,
                "reach": list(c.reach),
            }
            for c in diff.changes
        ],
        "numbers": {
            "skipped": numbers.skipped,
            "by": list(numbers.by),
            "grain": numbers.grain,
            "compared": list(numbers.compared),
            "head_only": list(numbers.head_only),
            "base_only": list(numbers.base_only),
            "rows": numbers.rows,
            "values": [_value_json(v) for v in numbers.values],
            "findings_appeared": [finding_json(f) for f in numbers.appeared],
            "findings_disappeared": [finding_json(f) for f in numbers.disappeared],
            "scores": [
                {"scorecard": s.scorecard, "group": s.group, "period": s.period, "old": s.old, "new": s.new}
                for s in numbers.scores
            ],
        },
    }
    return json.dumps(document, indent=2, default=str)


def _value_json(value: ValueChange) -> dict[str, object]:
    return {
        "metric": value.metric,
        "group": value.group,
        "period": value.period,
        "unit": value.unit,
        "old": value.old,
        "new": value.new,
        "delta": value.delta,
        "relative": value.relative,
        "old_status": value.old_status,
        "new_status": value.new_status,
    }


RENDERERS: dict[str, Callable[[Diff], str]] = {"text": as_text, "markdown": as_markdown, "json": as_json}
