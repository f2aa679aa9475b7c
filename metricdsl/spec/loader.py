"""Load spec files: YAML (safely) → `Definitions`, every node with its file, line and column.

The loader reads the top level of each file and hands each definition to its reader: metrics and
dashboards here, sources in `source_readers`, targets, rules, scorecards and tests in `grading_readers`.
Every reader receives the file's `YamlReader` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Protocol, TypedDict, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from metricdsl.errors import Diagnostic, Location
from metricdsl.spec.data_keys import read_calendar
from metricdsl.spec.data_paths import leads_outside, project_folder
from metricdsl.spec.definitions import (
    DASHBOARD_KEYS,
    DIRECTIONS,
    GRAINS,
    METRIC_KEYS,
    TOP_KEYS,
    Calendar,
    Dashboard,
    DashboardSection,
    Definitions,
    ExprText,
    Metric,
    Source,
    Trailing,
)
from metricdsl.spec.grading_readers import read_rule, read_scorecard, read_target, read_tests
from metricdsl.spec.positions import FileText
from metricdsl.spec.source_readers import read_source
from metricdsl.spec.yaml_limits import LIMIT_HINTS, Excess, excess, written_too_deep
from metricdsl.spec.yaml_reader import YamlReader
from metricdsl.spec.yaml_traps import flow_value_bounds, indicator_value_bounds, quoting_hint

SPEC_SUFFIXES = (".yaml", ".yml")
DAY_SECONDS = 86_400
# libyaml's safe loader when PyYAML was built with it (several times faster); same nodes and marks.
YAML_LOADER: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def spec_files(paths: Sequence[str | Path]) -> list[Path]:
    """The YAML files named by `paths`: files as given, folders searched recursively, in order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            # Links too, dangling ones included, so that what cannot be read is reported, not skipped.
            found += sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and (p.is_file() or p.is_symlink()))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def links_outside(paths: Sequence[str | Path], files: Sequence[Path]) -> set[Path]:
    """The `files` found by searching a folder of `paths` that link outside the project folder. They are not
    read or rewritten: a pull request could link a spec file to any file of the machine. Named, they are."""
    folder, named = project_folder(paths), {Path(p) for p in paths}
    return {path for path in files if path not in named and leads_outside(path, folder)}


def load_files(
    paths: Sequence[str | Path], *, allow_outside_paths: bool = False, given_sources: Collection[str] = ()
) -> tuple[Definitions, list[Diagnostic]]:
    """Read every spec file under `paths`; return what loaded and every problem found.

    A source's `path:` that leads outside the project folder of `paths` is an error (MD009, see
    `data_paths`) unless `allow_outside_paths`; so is a spec file found in a folder that links outside it (MD002).
    The sources of `given_sources` get their data elsewhere (`--data`): their `path:` is not read, and one that
    leads outside is left out, not reported.
    """
    folder = project_folder(paths)
    loader = _Loader(None if allow_outside_paths else folder, given_sources)
    files = spec_files(paths)
    if not files:
        message = f"no spec files (*.yaml, *.yml) found in {', '.join(map(str, paths))}"
        loader.diagnostics.append(Diagnostic.make("MD002", message, None))
    refused = set() if allow_outside_paths else links_outside(paths, files)
    for path in files:
        if path in refused:
            message = f"{path} links to a file outside the project folder; name it to read it"
            loader.diagnostics.append(Diagnostic.make("MD002", message, None))
            continue
        loader.load_file(path)
    return loader.definitions, loader.diagnostics


def load_text(path: str, text: str) -> tuple[Definitions, list[Diagnostic]]:
    """Load one spec file's `text` as if read from `path` (its data paths unchecked: nothing reads them here)."""
    loader = _Loader()
    loader.load_text(path, text)
    return loader.definitions, loader.diagnostics


def load_texts(
    files: Sequence[tuple[str, str]], project: Path | None, given_sources: Collection[str] = ()
) -> tuple[Definitions, list[Diagnostic]]:
    """Load spec files given as `(path, text)` pairs, as `load_files` loads the files at those paths: positions name
    the paths, and each source's `path:` is relative to its file's path and checked against the `project` folder
    (None: not checked). For specs read from elsewhere than their path, such as a git revision."""
    loader = _Loader(project, given_sources)
    for path, text in files:
        loader.load_text(path, text)
    return loader.definitions, loader.diagnostics


def expressions(definitions: Definitions) -> list[ExprText]:
    """Every expression string of the definitions, in the order they were loaded."""
    found = [text for source in definitions.sources.values() for text in source.derive.values()]
    for metric in definitions.metrics.values():
        found += [metric.expr] + ([metric.where] if metric.where else [])
    return found


class _Defined(Protocol):
    @property
    def location(self) -> Location | None: ...


D = TypeVar("D", bound=_Defined)


class _Loader:
    """The definitions of every file read so far, and every problem found in them; with a `project` folder,
    the data paths of sources must lead inside it, but for the `given_sources`, whose data comes from elsewhere."""

    def __init__(self, project: Path | None = None, given_sources: Collection[str] = ()) -> None:
        self.definitions = Definitions()
        self.diagnostics: list[Diagnostic] = []
        self.project = project
        self.given_sources = frozenset(given_sources)

    def load_file(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            message = f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
            self.diagnostics.append(Diagnostic.make("MD002", message, None))
            return
        self.load_text(str(path), text)

    def load_text(self, path: str, text: str) -> None:
        # A byte-order mark is no character of the file: YAML's marks do not count it, so neither may positions.
        text = text.removeprefix("\ufeff")
        file = FileText.of(path, text)
        try:
            root = yaml.compose(text, Loader=YAML_LOADER)
        except (yaml.YAMLError, RecursionError) as error:
            self.diagnostics.append(_unreadable(file, error))
            return
        if root is None:
            return
        reader = YamlReader(file, self.diagnostics)
        refused = excess(root)
        if refused is not None:  # nothing of the file is read: its values would be too many or too deep
            self.diagnostics.append(_refused(file, refused))
            return
        defs = self.definitions

        def source(reader: YamlReader, name: str, name_node: Node, node: Node) -> Source:
            return read_source(reader, name, name_node, node, self.project, given=name in self.given_sources)

        sections: dict[str, Callable[[Node], None]] = {
            "sources": lambda node: self.read_all(reader, "sources", node, defs.sources, source),
            "metrics": lambda node: self.read_all(reader, "metrics", node, defs.metrics, read_metric),
            "dashboards": lambda node: self.read_all(reader, "dashboards", node, defs.dashboards, read_dashboard),
            "targets": lambda node: self.read_all(reader, "targets", node, defs.targets, read_target),
            "rules": lambda node: self.read_all(reader, "rules", node, defs.rules, read_rule),
            "scorecards": lambda node: self.read_all(reader, "scorecards", node, defs.scorecards, read_scorecard),
            "tests": lambda node: defs.tests.extend(read_tests(reader, node)),
        }
        for key, key_node, value in reader.mapping(root, TOP_KEYS):
            if key == "calendar":
                self.keep_calendar(read_calendar(reader, key_node, value), reader, key_node)
            else:
                sections[key](value)

    def keep_calendar(self, calendar: Calendar, reader: YamlReader, key_node: Node) -> None:
        """Keep the project's one `calendar:`; report another."""
        earlier = self.definitions.calendar.location
        if earlier is None:
            self.definitions.calendar = calendar
            return
        message = f"`calendar` is defined twice (first defined at {earlier.file}:{earlier.line})"
        reader.report("MD007", message, key_node, "a project has one calendar: keep one of them")

    def read_all(
        self,
        reader: YamlReader,
        kind: str,
        node: Node,
        table: dict[str, D],
        read: Callable[[YamlReader, str, Node, Node], D | None],
    ) -> None:
        """Read the definitions of one `kind` (a mapping of names to bodies) into `table`."""
        for name, name_node, body in reader.mapping(node):
            if not reader.check_name(kind[:-1], name, name_node):
                continue  # nothing can refer to it
            definition = read(reader, name, name_node, body)
            if definition is None:
                continue
            if name in table:
                earlier = table[name].location
                where = f" (first defined at {earlier.file}:{earlier.line})" if earlier else ""
                reader.report("MD007", f"{kind[:-1]} `{name}` is defined twice{where}", name_node)
                continue
            table[name] = definition


def _quoting_hint(file: FileText, error: yaml.MarkedYAMLError) -> str | None:
    """For a value that starts with a character YAML reads otherwise (`warn: > 10s`), or a flow mapping that YAML
    cannot read because a value holds `[`, `]`, `{` or `}` (`{expr: x in [1, 2]}`): the line with the value quoted."""
    if error.problem_mark is not None:
        indicator = indicator_value_bounds(file.text, error.problem_mark.index)
        if indicator is not None:
            first = file.text[indicator[0]]
            hint = quoting_hint(file.text, *indicator)
            return f"YAML reads `{first}` at the start of a value as syntax of its own, not as text: {hint}"
    if error.context != "while parsing a flow mapping" or error.context_mark is None or error.problem_mark is None:
        return None
    bounds = flow_value_bounds(file.text, error.context_mark.index, error.problem_mark.index)
    return None if bounds is None else quoting_hint(file.text, *bounds)


def _unreadable(file: FileText, error: yaml.YAMLError | RecursionError) -> Diagnostic:
    """Why a file could not be composed: values nested too deeply for the YAML library (libyaml stops at 1,000
    levels, PyYAML's composer at the depth of the stack) are MD011 where they pass the limit; else it is MD001."""
    mark = (error.problem_mark or error.context_mark) if isinstance(error, yaml.MarkedYAMLError) else None
    # Only the text before the error is parsed again: libyaml looks ahead for keys (up to 1,024 characters) and
    # would stop at its own limit before it hands over the values that pass ours.
    deep = written_too_deep(yaml.parse(file.text[: mark.index if mark else None], Loader=YAML_LOADER))
    if deep is not None:
        return _refused(file, deep)
    if isinstance(error, yaml.MarkedYAMLError):
        index = mark.index if mark else 0
        message = f"{error.problem or 'invalid YAML'} {error.context or ''}".strip()
        location = file.location(min(index, max(len(file.text) - 1, 0)))
        return Diagnostic.make("MD001", message, location, _quoting_hint(file, error))
    if isinstance(error, RecursionError):
        return Diagnostic.make("MD001", "the YAML is nested too deeply to read", file.location(0))
    return Diagnostic.make("MD001", str(error), None)


def _refused(file: FileText, refused: Excess) -> Diagnostic:
    """A file refused unread, at the value where the excess starts."""
    location = file.location(refused.start, refused.end)
    return Diagnostic.make(refused.code, refused.message, location, LIMIT_HINTS[refused.code])


# -- metrics, dashboards ---------------------------------------------------------------------------


class _MetricFields(TypedDict, total=False):
    expr: ExprText | None
    where: ExprText | None
    label: str | None
    short: str | None
    description: str | None
    unit: str | None
    source: str | None
    better: str | None
    min_n: int | None
    trailing: Trailing | None


def read_trailing(reader: YamlReader, node: Node) -> Trailing | None:
    """`trailing: 4w` (a duration in s, m, h, d or w) or `trailing: 4 periods`."""
    text = reader.text(node)
    if text is None:
        return None
    trailing = Trailing.parse(text, reader.at(node))
    if trailing is None:
        reader.report(
            "MD006",
            f"`trailing: {text}` is neither a duration nor a number of periods",
            node,
            "write a duration such as `4w` or `28d`, or a number of periods such as `4 periods`",
        )
    elif trailing.seconds is not None and trailing.seconds % DAY_SECONDS:
        reader.report(
            "MD006",
            f"`trailing: {text}` is not a whole number of days, so no grain's periods make it up",
            node,
            "write whole days (`2d`) or weeks (`4w`), or a number of periods such as `4 periods`",
        )
        return None
    return trailing


def read_metric(reader: YamlReader, name: str, name_node: Node, node: Node) -> Metric | None:
    """A metric: its expression alone (`name: expression`), or a mapping with its `expr` and options."""
    if isinstance(node, ScalarNode):  # shorthand: `name: expression`
        expr = reader.expr(node)
        return Metric(name, expr, location=reader.at(name_node)) if expr else None
    readers: dict[str, Callable[[Node], _MetricFields]] = {
        "expr": lambda n: {"expr": reader.expr(n)},
        "where": lambda n: {"where": reader.expr(n)},
        "label": lambda n: {"label": reader.text(n)},
        "short": lambda n: {"short": reader.text(n)},
        "description": lambda n: {"description": reader.text(n)},
        "unit": lambda n: {"unit": reader.text(n)},
        "source": lambda n: {"source": reader.text(n)},
        "better": lambda n: {"better": reader.choice(n, DIRECTIONS)},
        "min_n": lambda n: {"min_n": reader.whole_number(n, "give the fewest rows the metric needs, as `min_n: 30`")},
        "trailing": lambda n: {"trailing": read_trailing(reader, n)},
    }
    values: _MetricFields = {}
    for value in reader.fields(node, METRIC_KEYS, readers):
        values.update(value)
    expr = values.get("expr")
    if expr is None:
        if "expr" not in values:
            reader.report("MD005", f"metric `{name}` has no `expr`", name_node, "add `expr: <expression>`")
        return None
    return Metric(
        name=name,
        expr=expr,
        label=values.get("label"),
        short=values.get("short"),
        description=values.get("description"),
        unit=values.get("unit"),
        better=values.get("better"),
        where=values.get("where"),
        min_n=values.get("min_n"),
        source=values.get("source"),
        trailing=values.get("trailing"),
        location=reader.at(name_node),
    )


class _DashboardFields(TypedDict, total=False):
    metrics: tuple[str, ...]
    by: tuple[str, ...]
    title: str | None
    grain: str | None
    scorecard: str | None
    sections: tuple[DashboardSection, ...]


def read_sections(reader: YamlReader, node: Node) -> tuple[DashboardSection, ...]:
    """A dashboard's `sections:`: each title, in order, with the list of its metrics."""
    sections = []
    for title, key_node, listed in reader.mapping(node):
        if reader.check_label("section", title, key_node):
            items: list[Node] = listed.value if isinstance(listed, SequenceNode) else [listed]
            places = {str(item.value): reader.at(item) for item in items if isinstance(item, ScalarNode)}
            sections.append(DashboardSection(title, reader.texts(listed), reader.at(key_node), places))
    return tuple(sections)


def read_dashboard(reader: YamlReader, name: str, name_node: Node, node: Node) -> Dashboard | None:
    """A dashboard: its `metrics` (required), dimensions, grain, title and scorecard."""

    def description(n: Node) -> _DashboardFields:
        reader.text(n)  # read for its diagnostics: a dashboard keeps no description
        return {}

    readers: dict[str, Callable[[Node], _DashboardFields]] = {
        "metrics": lambda n: {"metrics": reader.texts(n)},
        "by": lambda n: {"by": reader.texts(n)},
        "title": lambda n: {"title": reader.text(n)},
        "description": description,
        "grain": lambda n: {"grain": reader.choice(n, GRAINS)},
        "scorecard": lambda n: {"scorecard": reader.text(n)},
        "sections": lambda n: {"sections": read_sections(reader, n)},
    }
    values: _DashboardFields = {}
    for value in reader.fields(node, DASHBOARD_KEYS, readers):
        values.update(value)
    if "metrics" not in values:
        reader.report("MD005", f"dashboard `{name}` has no `metrics`", name_node)
        return None
    places: dict[str, Location] = {}
    pairs: list[tuple[Node, Node]] = node.value if isinstance(node, MappingNode) else []
    for key_node, listed in pairs:
        items: list[Node] = listed.value if isinstance(listed, SequenceNode) else [listed]
        if key_node.value in ("metrics", "by", "scorecard"):
            places.update(
                {f"{key_node.value}:{item.value}": reader.at(item) for item in items if isinstance(item, ScalarNode)}
            )
    return Dashboard(
        name=name,
        metrics=values["metrics"],
        by=values.get("by", ()),
        grain=values.get("grain"),
        title=values.get("title"),
        scorecard=values.get("scorecard"),
        sections=values.get("sections", ()),
        location=reader.at(name_node),
        places=places,
    )
