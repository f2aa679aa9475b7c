"""Check a project in one pass: parse every expression, resolve names, infer types and units.

`check()` never raises on a user's mistake: it returns the model and every diagnostic found.
"""

from __future__ import annotations

from collections.abc import Iterable

from metricdsl.errors import Diagnostic, Location, did_you_mean, has_errors
from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES, TEMPORAL, WINDOWS
from metricdsl.language.parser import SyntaxProblem, parse
from metricdsl.semantics.filters import MAX_VARIANTS, TooManyVariants, variants
from metricdsl.semantics.model import (
    CheckedMetric,
    CheckedRule,
    CheckedSource,
    CheckedTarget,
    CheckedThresholds,
    ExprType,
    Model,
)
from metricdsl.semantics.nesting import check_nesting
from metricdsl.semantics.periods import check_trailing, grain_problem
from metricdsl.semantics.resolution import Definition, Resolution
from metricdsl.semantics.scope import Reporter, Scope, column_names
from metricdsl.semantics.typer import Typer
from metricdsl.semantics.types import ANY
from metricdsl.spec.definitions import PLACEHOLDER, Dashboard, Definitions, ExprText, Rule, SpecTest, Target


def check(definitions: Definitions) -> tuple[Model, list[Diagnostic]]:
    """Check every definition; return the model and all diagnostics (errors and warnings)."""
    checker = _Checker(definitions)
    checker.run()
    return checker.model, checker.reporter.diagnostics


class _Checker:
    """Checks each definition once, in order; types their expressions with a `Typer`, for which a `Resolution`
    gives the types of metrics and derived columns (each typed once, after what it reads; cycles reported)."""

    def __init__(self, definitions: Definitions) -> None:
        self.defs = definitions
        self.model = Model(definitions)
        self.reporter = Reporter()
        self.resolution = Resolution(self.reporter, self.type_definition, self.parse_definition, self.text_of)
        self.typer = Typer(definitions, self.model, self.reporter, self.resolution)
        # Trees by the identity of their text; the text is kept with its tree so that its id stays unique.
        self.trees: dict[int, tuple[ExprText, ast.Expr | None]] = {}

    def parse(self, text: ExprText) -> ast.Expr | None:
        if id(text) not in self.trees:
            try:
                self.trees[id(text)] = (text, parse(text.text))
            except SyntaxProblem as problem:
                self.trees[id(text)] = (text, None)
                self.reporter.diagnostics.append(
                    Diagnostic.make("MD101", problem.message, text.location(problem.start, problem.end), problem.hint)
                )
        return self.trees[id(text)][1]

    # -- definitions ------------------------------------------------------------------------------

    def run(self) -> None:
        for source in self.defs.sources.values():
            self.check_source(source.name)
        for name in self.defs.metrics:
            self.resolution.metric_type(name)
        typed = self.resolution.typed
        check_nesting(
            self.model,
            [(d.source, d.name, self.text_of(d)) for d in typed if d.source is not None],
            [(d.name, self.text_of(d)) for d in typed if d.kind == "metric"],
            self.reporter,
        )
        self.check_variants()
        for dashboard in self.defs.dashboards.values():
            for name in dashboard.metrics:
                if name not in self.defs.metrics:
                    self.report_unknown(
                        f"dashboard `{dashboard.name}` lists unknown metric `{name}`",
                        name,
                        self.defs.metrics,
                        dashboard.places.get(f"metrics:{name}", dashboard.location),
                    )
            self.check_dimensions(dashboard, f"dashboard `{dashboard.name}`")
            self.check_periods(dashboard)
            self.check_sections(dashboard)
            if dashboard.scorecard and dashboard.scorecard not in self.defs.scorecards:
                self.report_unknown(
                    f"dashboard `{dashboard.name}` names unknown scorecard `{dashboard.scorecard}`",
                    dashboard.scorecard,
                    self.defs.scorecards,
                    dashboard.places.get(f"scorecard:{dashboard.scorecard}", dashboard.location),
                )
        for target in self.defs.targets.values():
            self.check_target(target)
        for test in self.defs.tests:
            self.check_test_booleans(test)
        for rule in self.defs.rules.values():
            self.check_rule(rule)
        for scorecard in self.defs.scorecards.values():
            for item in scorecard.items:
                if item.metric not in self.defs.metrics:
                    self.report_unknown(
                        f"scorecard `{scorecard.name}` lists unknown metric `{item.metric}`",
                        item.metric,
                        self.defs.metrics,
                        item.location,
                    )

    def check_test_booleans(self, test: SpecTest) -> None:
        """A value of a `given` row that YAML reads as a boolean (`country: NO`), in a str column: the text was meant."""
        for written in test.booleans:
            if written.source is None:  # an `expect` row: its dimensions are columns of any source
                sources = list(self.defs.sources.values()) if written.column in test.by else []
            else:
                sources = [self.defs.sources[written.source]] if written.source in self.defs.sources else []
            types = {s.columns[written.column].type for s in sources if written.column in s.columns}
            if types != {"str"}:
                continue
            value = written.text.lower() in ("yes", "true", "on")
            self.reporter.report(
                "MD003",
                f"YAML reads `{written.text}` as {str(value).lower()}, not as a text for str column `{written.column}`",
                None,
                hint=f'quote it: `{written.column}: "{written.text}"`',
                location=written.location,
            )

    def check_variants(self) -> None:
        """Report a project whose filters of metrics of metrics need too many re-aggregated metrics (MD234)."""
        filtered = [name for name, checked in self.model.metrics.items() if checked.filters and checked.metrics]
        try:
            variants(self.model, filtered, MAX_VARIANTS)
        except TooManyVariants as excess:
            self.reporter.report(
                "MD234",
                f"metric `{excess.metric}` re-aggregates the metrics below it under more than {MAX_VARIANTS:,} "
                "combinations of filters",
                self.defs.metrics[excess.metric].where,
                hint="filter fewer levels of metrics of metrics, or filter the metrics of aggregates themselves",
            )

    def report_unknown(self, message: str, name: str, known: Iterable[str], location: Location | None) -> None:
        """MD201 at a definition: `message` about the unknown `name`, with a did-you-mean among `known`."""
        self.reporter.report("MD201", message, None, hint=did_you_mean(name, known), location=location)

    def condition(self, text: ExprText | None, owner: str) -> ast.Expr | None:
        """Parse and check a condition of a rule or threshold; None when it has errors (warnings keep it)."""
        if text is None:
            return None
        tree = self.parse(text)
        if tree is None:
            return None
        before = len(self.reporter.diagnostics)
        self.typer.expect_bool(tree, Scope("rule", None, text, owner=owner), "a condition")
        return None if has_errors(self.reporter.diagnostics[before:]) else tree

    def check_target(self, target: Target) -> None:
        if target.metric not in self.defs.metrics:
            self.report_unknown(
                f"target for unknown metric `{target.metric}`", target.metric, self.defs.metrics, target.location
            )
            return
        better = self.defs.metrics[target.metric].better
        checked = []
        for thresholds in (target.base, *target.overrides):
            levels = {}
            for level in ("target", "warn", "fail"):
                text = getattr(thresholds, level)
                tree = self.condition(text, f"the {level} of `{target.metric}`")
                levels[level] = tree
                if tree is not None and text is not None:
                    self.check_direction(target.metric, better, level, tree, text)
            when = self.condition(thresholds.when, f"the `when` of a target of `{target.metric}`")
            checked.append(CheckedThresholds(thresholds, **levels, when=when))
        self.model.targets[target.metric] = CheckedTarget(target, checked[0], tuple(checked[1:]))

    def check_direction(self, metric: str, better: str | None, level: str, tree: ast.Expr, text: ExprText) -> None:
        """A warn or fail threshold must point the metric's worse way; a target its better way."""
        if better is None or not isinstance(tree, ast.Binary) or tree.op not in ("<", "<=", ">", ">="):
            return
        below = tree.op in ("<", "<=")
        worse_below = better == "higher"
        if (level == "target") == (below == worse_below):
            self.reporter.report(
                "MD213",
                f"the {level} of `{metric}` ({text.text}) points against `better: {better}`",
                text,
                tree,
                f"with `better: {better}`, {'a target' if level == 'target' else 'warn and fail'} "
                f"read `{'>' if (level == 'target') == worse_below else '<'} ...`",
            )

    def check_rule(self, rule: Rule) -> None:
        when = self.condition(rule.when, f"rule `{rule.name}`")
        placeholders = []
        message = rule.message
        for match in PLACEHOLDER.finditer(message.text if message else ""):
            assert message is not None
            start, end = match.span(1)
            text = ExprText(match.group(1), message.file, message.offsets[start : end + 1])
            tree = self.parse(text)
            if tree is not None:
                self.typer.infer(tree, Scope("rule", None, text, owner=f"the message of rule `{rule.name}`"))
                placeholders.append((match.group(1), tree))
        if when is not None:
            self.model.rules[rule.name] = CheckedRule(rule, when, tuple(placeholders))

    def check_dimensions(self, dashboard: Dashboard, owner: str) -> None:
        """Report a dimension in the dashboard's `by` that some of its metrics' sources lack."""
        for column in dashboard.by:
            location = dashboard.places.get(f"by:{column}", dashboard.location)
            for name in dashboard.metrics:
                checked = self.model.metrics.get(name)
                if checked is None or checked.source is None:
                    continue
                if not self.has_column(checked.source, column):
                    self.reporter.report(
                        "MD212",
                        f"{owner}: metric `{name}` reads source `{checked.source}`, which has no column `{column}`",
                        None,
                        location=location,
                        hint=did_you_mean(column, column_names(self.defs.sources[checked.source]))
                        or f"columns of `{checked.source}`: {', '.join(column_names(self.defs.sources[checked.source]))}",
                    )
                    break

    def check_sections(self, dashboard: Dashboard) -> None:
        """Report a metric of a dashboard's `sections` that its `metrics` lack, or that two sections list (MD235)."""
        placed: dict[str, str] = {}
        for section in dashboard.sections:
            for name in section.metrics:
                where = section.places.get(name, section.location)
                owner = f"section `{section.title}` of dashboard `{dashboard.name}`"
                if name not in dashboard.metrics:
                    known = name in self.defs.metrics
                    hint = (None if known else did_you_mean(name, dashboard.metrics)) or f"add `{name}` to `metrics`"
                    self.reporter.report(
                        "MD235", f"{owner} lists `{name}`, which is not among its metrics", None, hint=hint, location=where
                    )
                elif name in placed:
                    hint = f"it is in section `{placed[name]}` already: list each metric in one section"
                    self.reporter.report("MD235", f"{owner} lists `{name}` a second time", None, hint=hint, location=where)
                placed.setdefault(name, section.title)

    def check_periods(self, dashboard: Dashboard) -> None:
        """Report a metric of the dashboard that its grain (or the lack of one) cannot compute (MD232)."""
        listed = [name for name in dashboard.metrics if name in self.model.metrics]
        for name in self.model.metric_order(listed):
            problem = grain_problem(self.model.metrics[name], name, dashboard.grain)
            if problem is not None:
                message, hint = problem
                shown = next((m for m in listed if name in self.model.metric_order([m])), name)
                location = dashboard.places.get(f"metrics:{shown}", dashboard.location)
                hint = "give the dashboard a `grain:`" if dashboard.grain is None else hint
                self.reporter.report("MD232", f"dashboard `{dashboard.name}`: {message}", None, hint=hint, location=location)

    def has_column(self, source: str, name: str) -> bool:
        found = self.defs.sources[source]
        return name in found.columns or name in found.derive

    def check_source(self, name: str) -> None:
        source = self.defs.sources[name]
        if source.time is not None:
            column = source.columns.get(source.time)
            if column is None and source.time not in source.derive:
                self.report_unknown(
                    f"source `{name}`: time column `{source.time}` is not a column",
                    source.time,
                    source.columns,
                    source.location,
                )
            elif column is not None and column.type not in TEMPORAL:
                self.reporter.report(
                    "MD204",
                    f"source `{name}`: time column `{source.time}` is {column.type}, not datetime or date",
                    None,
                    location=column.location,
                )
        for entity, column_name in source.entities.items():
            if not self.has_column(name, column_name):
                self.report_unknown(
                    f"source `{name}`: entity `{entity}` names unknown column `{column_name}`",
                    column_name,
                    source.columns,
                    source.location,
                )
        for derived, text in source.derive.items():
            if derived in source.columns:
                self.reporter.report(
                    "MD007",
                    f"derived column `{derived}` has the name of a column of `{name}`",
                    text,
                    location=text.location(0, len(text.text)),
                )
            self.resolution.derived_type(name, derived)
        self.model.sources[name] = CheckedSource(
            source, {d: t for d, text in source.derive.items() if (t := self.parse(text)) is not None}
        )

    # -- metrics and derived columns, each typed once by the resolution ----------------------------

    def type_definition(self, definition: Definition) -> ExprType:
        if definition.kind == "metric":
            return self.type_metric(definition.name)
        assert definition.source is not None
        return self.type_derived(definition.source, definition.name)

    def parse_definition(self, definition: Definition) -> None:
        self.parse(self.text_of(definition))
        where = self.defs.metrics[definition.name].where if definition.kind == "metric" else None
        if where is not None:
            self.parse(where)

    def text_of(self, definition: Definition) -> ExprText:
        if definition.kind == "metric":
            return self.defs.metrics[definition.name].expr
        assert definition.source is not None
        return self.defs.sources[definition.source].derive[definition.name]

    def type_derived(self, source: str, name: str) -> ExprType:
        text = self.defs.sources[source].derive[name]
        tree = self.parse(text)
        return ANY if tree is None else self.typer.infer(tree, Scope("row", source, text, owner=f"derived `{name}`"))

    def type_metric(self, name: str) -> ExprType:
        metric = self.defs.metrics[name]
        tree = self.parse(metric.expr)
        where = self.parse(metric.where) if metric.where else None
        if tree is None:
            return ANY
        reads_rows = any(isinstance(n, ast.Call) and n.func in AGGREGATES for n in ast.walk(tree))
        # The `where` of a metric of metrics filters the metrics it uses: it names no source of its own.
        source = self.metric_source(name, tree, where if reads_rows else None)
        scope = Scope("metric", source, metric.expr, owner=f"metric `{name}`")
        result = self.typer.infer(tree, scope)
        uses = tuple(
            dict.fromkeys(r.name for node in ast.walk(tree) if (r := self.model.refs.get(id(node))) and r.kind == "metric")
        )
        if not reads_rows:
            source = None  # a metric of metrics reads no rows: its groups are those of its metrics
        reaches = tuple(dict.fromkeys([*([source] if source else []), *(s for u in uses for s in self.reached(u))]))
        filters: dict[str, ast.Expr] = {}
        if where is not None and metric.where is not None:
            filters = self.check_filter(name, where, metric.where, source, reaches, uses)
        if metric.trailing is not None:
            check_trailing(self.reporter, name, metric.trailing, tree, reads_rows)
        self.model.metrics[name] = CheckedMetric(metric, tree, where, source, result, uses, reaches, filters)
        return result

    def reached(self, name: str) -> tuple[str, ...]:
        checked = self.model.metrics.get(name)
        return checked.reaches if checked is not None else ()

    def check_filter(
        self, name: str, where: ast.Expr, text: ExprText, source: str | None, reaches: tuple[str, ...], uses: tuple[str, ...]
    ) -> dict[str, ast.Expr]:
        """Type a metric's `where` in each source it reaches (a tree of its own per source, as its names mean that
        source's columns); report a column that a source it reaches through the metrics it uses lacks (MD233)."""
        if not reaches:
            below = self.model.metric_order(list(uses))
            if all(m in self.model.metrics for m in below):  # else a metric below has errors of its own
                self.reporter.report("MD211", f"metric `{name}` has a `where` but reads no source", text)
            return {}
        filters: dict[str, ast.Expr] = {}
        first = source or reaches[0]
        # A name that no source it reaches has is unknown (MD201, reported in the first source only); one that some
        # have and others lack is a filter that does not fit every metric it filters (MD233).
        names = {n.name for n in _filter_names(where)}
        unknown = {n for n in names if not any(self.has_column(s, n) for s in reaches)}
        for reached in reaches:
            tree = where if reached == first else parse(text.text)
            missing = [n for n in _filter_names(tree) if n.name not in unknown and not self.has_column(reached, n.name)]
            for node in missing:
                through = next((u for u in uses if reached in self.reached(u)), None)
                self.reporter.report(
                    "MD233",
                    f"the `where` of metric `{name}` filters metric `{through}` too, whose source `{reached}` "
                    f"has no column `{node.name}`",
                    text,
                    node,
                    "a `where` on a metric of metrics filters every metric it uses, so each of their sources needs "
                    "the columns it names: move the condition into the `where` of the metrics whose source has them",
                )
            if missing or (unknown and reached != first):
                continue
            self.typer.expect_bool(tree, Scope("row", reached, text, owner=f"metric `{name}`"), "`where`")
            filters[reached] = tree
        return filters

    def metric_source(self, name: str, tree: ast.Expr, where: ast.Expr | None) -> str | None:
        """The metric's source: given, the only one, or the one holding every column its aggregates read."""
        metric = self.defs.metrics[name]
        if metric.source is not None:
            if metric.source in self.defs.sources:
                return metric.source
            self.report_unknown(
                f"metric `{name}`: unknown source `{metric.source}`", metric.source, self.defs.sources, metric.location
            )
            return None
        reads_rows = any(isinstance(n, ast.Call) and n.func in AGGREGATES for n in ast.walk(tree))
        if not self.defs.sources and reads_rows:
            self.reporter.report(
                "MD211",
                f"metric `{name}` aggregates rows, but the project declares no source",
                None,
                hint="declare the source of its rows under `sources:`",
                location=metric.location,
            )
            return None
        if len(self.defs.sources) <= 1:
            return next(iter(self.defs.sources), None)
        names = set(_row_names(tree, inside=False)) | (set(_row_names(where, inside=True)) if where else set())
        names -= set(self.defs.metrics) - set().union(*(column_names(s) for s in self.defs.sources.values()))
        if not names:
            if reads_rows:
                self.reporter.report(
                    "MD211",
                    f"metric `{name}`: cannot tell which source it counts",
                    None,
                    hint=f"add `source:` (one of {', '.join(self.defs.sources)})",
                    location=metric.location,
                )
            return None
        scores = {s: sum(self.has_column(s, n) for n in names) for s in self.defs.sources}
        best = max(scores.values(), default=0)
        winners = [s for s, score in scores.items() if score == best]
        if len(winners) > 1:
            self.reporter.report(
                "MD211",
                f"metric `{name}`: the columns it reads are in several sources ({', '.join(winners)})",
                None,
                hint="add `source:`",
                location=metric.location,
            )
            return None
        return winners[0]


def _filter_names(node: ast.Expr) -> list[ast.Name]:
    """The names a filter reads per row, leaving out the sources and filters of its windows."""
    if isinstance(node, ast.Name):
        return [node]
    if isinstance(node, ast.Call) and node.func in WINDOWS:
        return []
    return [name for child in ast.children(node) for name in _filter_names(child)]


def _row_names(node: ast.Expr, inside: bool) -> list[str]:
    """Column names read per row (inside aggregates), leaving out other sources' window filters."""
    if isinstance(node, ast.Name):
        return [node.name] if inside else []
    if isinstance(node, ast.Call):
        if node.func in WINDOWS:
            return (
                []
                if not inside
                else [
                    n
                    for k in node.keywords
                    if k.name == "on" and not isinstance(k.value, ast.Binary)  # `value=`, `sum=`: the other source's
                    for n in _row_names(k.value, True)
                ]
            )
        inside = inside or node.func in AGGREGATES
    return [name for child in ast.children(node) for name in _row_names(child, inside)]
