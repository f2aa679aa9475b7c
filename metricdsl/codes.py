"""The diagnostic registry: every code with its title, meaning, reason, example and fix (`codes.yaml`).

`metricdsl explain CODE` prints one entry; the README's table of codes is generated from it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from importlib import resources

import yaml


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    """A documented diagnostic code: what it means, why it matters, an example, how to fix it."""

    code: str
    title: str
    what: str
    why: str
    example: str
    fix: str
    severity: Severity = Severity.ERROR

    def explain(self) -> str:
        """The documentation of the code, as `metricdsl explain CODE` prints it."""
        example = "\n".join(f"    {line}" for line in self.example.splitlines())
        return (
            f"{self.code}: {self.title} ({self.severity.value})\n\n{self.what}\n\nWhy: {self.why}\n\n"
            f"Example:\n\n{example}\n\nHow to fix: {self.fix}\n"
        )


def _load_codes() -> dict[str, Code]:
    entries = yaml.safe_load((resources.files("metricdsl") / "codes.yaml").read_text(encoding="utf-8"))
    return {
        code: Code(code=code, **{**entry, "severity": Severity(entry.get("severity", "error"))})
        for code, entry in entries.items()
    }


CODES: dict[str, Code] = _load_codes()


def codes_table() -> str:
    """The Markdown table of every diagnostic code, as the README shows it."""
    rows = [f"| `{c.code}` | {c.severity.value} | {c.title} | {c.what} |" for c in CODES.values()]
    return "\n".join(["| code | severity | title | meaning |", "|---|---|---|---|", *rows])
