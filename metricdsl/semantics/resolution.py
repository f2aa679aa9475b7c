"""The types of the metrics and derived columns of a project, each typed once, after the definitions it reads.

Chains of metrics of metrics or of derived columns can be thousands long, so definitions are typed without
recursion: an attempt at typing a definition notes the definitions it reads that are not typed yet, and is
dropped with its diagnostics; those are typed first, from an explicit stack, then the definition again. A
definition read while it is being typed closes a cycle, reported along the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from metricdsl.semantics.model import ExprType
from metricdsl.semantics.scope import Reporter
from metricdsl.semantics.typer import Via
from metricdsl.semantics.types import ANY
from metricdsl.spec.definitions import ExprText


@dataclass(frozen=True)
class Definition:
    """A metric, or a derived column of `source`."""

    kind: str  # "metric" or "derived"
    name: str
    source: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source}.{self.name}" if self.source else self.name


class Resolution:
    """Gives the typer the type of each metric and derived column (the `typer.Resolver` it needs): types it with
    `type_one` when first asked, after what it reads, and reports cycles to `reporter`. `start(definition)` runs
    before each attempt at typing it, outside the attempt (to parse it, so that syntax errors are reported once)."""

    def __init__(
        self,
        reporter: Reporter,
        type_one: Callable[[Definition], ExprType],
        start: Callable[[Definition], None],
        text_of: Callable[[Definition], ExprText],
    ) -> None:
        self.reporter = reporter
        self.type_one = type_one
        self.start = start
        self.text_of = text_of
        self.types: dict[Definition, ExprType] = {}
        self.typed: list[Definition] = []  # in the order they were typed: what each reads before it (cycles aside)
        # The definitions being typed, each reading the next: the path along which a cycle is found.
        self.in_progress: dict[Definition, None] = {}
        self.wanted: list[Definition] | None = None  # while typing a definition: what it reads that is not typed yet

    def derived_type(self, source: str, name: str, via: Via | None = None) -> ExprType:
        return self.resolve(Definition("derived", name, source), via)

    def metric_type(self, name: str, via: Via | None = None) -> ExprType:
        return self.resolve(Definition("metric", name), via)

    def resolve(self, definition: Definition, via: Via | None) -> ExprType:
        """The type of a definition that an expression reads (at `via`): typed now if it is not yet."""
        if definition in self.types:
            return self.types[definition]
        if definition in self.in_progress:
            self.report_cycle(definition, via)
            return ANY
        if self.wanted is not None:  # typing another definition: this one is typed before it, not inside it
            self.wanted.append(definition)
            return ANY
        self.type_in_order(definition)
        return self.types[definition]

    def type_in_order(self, first: Definition) -> None:
        """Type `first` and, before it, every definition it reads, from an explicit stack."""
        self.in_progress[first] = None
        waiting: list[list[Definition]] = [[]]  # per definition in progress: what it reads, to type first
        while waiting:
            if waiting[-1]:
                following = waiting[-1].pop()
                if following not in self.types and following not in self.in_progress:
                    self.in_progress[following] = None
                    waiting.append([])
                continue
            current = next(reversed(self.in_progress))
            reads = self.attempt(current)
            if reads:
                waiting[-1] = reads[::-1]
            else:
                waiting.pop()
                self.in_progress.popitem()

    def attempt(self, definition: Definition) -> list[Definition]:
        """Type `definition`; if it reads definitions not typed yet, drop the attempt and return them."""
        self.start(definition)
        before = len(self.reporter.diagnostics)
        self.wanted = []
        result = self.type_one(definition)
        reads, self.wanted = list(dict.fromkeys(self.wanted)), None
        if reads:
            del self.reporter.diagnostics[before:]
            return reads
        self.types[definition] = result
        self.typed.append(definition)
        return []

    def report_cycle(self, definition: Definition, via: Via | None) -> None:
        path = list(self.in_progress)
        labels = [d.label for d in path[path.index(definition) :]] + [definition.label]
        if len(labels) > 9:  # a long cycle by its ends
            labels[4:-4] = [f"({len(labels) - 8:,} more)"]
        kind = "metric" if definition.kind == "metric" else "derived column"
        where = via or (self.text_of(definition),)
        self.reporter.report("MD210", f"{kind} `{definition.name}` depends on itself: {' → '.join(labels)}", *where)
