"""The report's findings: the latest period's, and those of the data read, as sentences grouped by severity, then by
the rule or target that raised them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from metricdsl.grading.findings import SEVERITY_ORDER, Finding, Report
from metricdsl.render import values
from metricdsl.render.findings import message
from metricdsl.render.html.text import STATUS_ICONS
from metricdsl.render.values import format_value
from metricdsl.semantics.model import Model

SEVERITY_ICONS = {"fail": STATUS_ICONS["fail"], "warn": STATUS_ICONS["warn"], "info": "i"}


@dataclass(frozen=True)
class FindingView:
    group: str
    message: str
    value: str  # a target's value, `57.6%`; "" for a rule
    threshold: str  # the threshold it is past, in the metric's unit
    ci: str
    facts: str  # `57.6% vs < 60% · 95% CI 40.8% – 72.8%`
    place: str  # `specs/grading.yaml:5`


@dataclass(frozen=True)
class FindingGroup:
    severity: str
    icon: str
    kind: str  # target, rule, data
    name: str
    heading: str  # the target's metric label, the rule's name, the data's source and column
    description: str
    findings: tuple[FindingView, ...]


def finding_groups(model: Model, report: Report, period: str | None) -> tuple[FindingGroup, ...]:
    """The findings of `period` and of the data, by severity (most severe first), then kind and name."""
    chosen = [f for f in report.findings if f.kind == "data" or (f.period is not None and str(f.period) == period)]
    if period is None:
        chosen = list(report.findings)
    keys = sorted({(f.severity, f.kind, f.name) for f in chosen}, key=lambda k: (-SEVERITY_ORDER[k[0]], k[1], k[2]))
    groups = []
    for severity, kind, name in keys:
        members = sorted(
            (f for f in chosen if (f.severity, f.kind, f.name) == (severity, kind, name)),
            key=lambda f: json.dumps(f.group, sort_keys=True, default=str),
        )
        groups.append(
            FindingGroup(
                severity,
                SEVERITY_ICONS.get(severity, ""),
                kind,
                name,
                _heading(model, kind, name),
                _description(model, kind, name),
                tuple(_view(f) for f in members),
            )
        )
    return tuple(groups)


def _heading(model: Model, kind: str, name: str) -> str:
    if kind == "target" and name in model.metrics:
        return f"{model.metrics[name].metric.label or name} (target)"
    if kind == "rule":
        return f"{name} (rule)"
    return f"{name} (data)"


def _description(model: Model, kind: str, name: str) -> str:
    if kind == "rule" and name in model.rules:
        return model.rules[name].rule.description or ""
    return ""


def _view(finding: Finding) -> FindingView:
    ci = ""
    if finding.ci and finding.ci[0] is not None and finding.ci[1] is not None:
        ci = f"95% CI {format_value(finding.ci[0], finding.unit)} – {format_value(finding.ci[1], finding.unit)}"
    value = format_value(finding.value, finding.unit) if finding.kind == "target" else ""
    threshold = _threshold(finding)
    facts = [f"{value} vs {threshold}" if value and threshold else value, ci]
    return FindingView(
        ", ".join("(none)" if v is None else str(v) for v in finding.group.values()),
        finding.message or message(finding),
        value,
        threshold,
        ci,
        " · ".join(f for f in facts if f),
        f"{finding.file}:{finding.line}" if finding.file else "",
    )


def _threshold(finding: Finding) -> str:
    """The threshold a target's value is past, in its unit (`< 60%`) where the formatter reads it."""
    if not finding.threshold:
        return ""
    return values.threshold_text(finding.threshold, finding.unit)
