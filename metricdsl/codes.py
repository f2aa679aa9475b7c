"""The diagnostic registry: every code with its title, meaning, reason, example and fix (`codes.yaml`).

Data only: `metricdsl.render.codes` writes an entry as `metricdsl explain CODE` prints it, and the README's
table of codes.
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


def _load_codes() -> dict[str, Code]:
    entries = yaml.safe_load((resources.files("metricdsl") / "codes.yaml").read_text(encoding="utf-8"))
    return {
        code: Code(code=code, **{**entry, "severity": Severity(entry.get("severity", "error"))})
        for code, entry in entries.items()
    }


CODES: dict[str, Code] = _load_codes()
