"""The documentation of diagnostic codes: one code as `metricdsl explain CODE` prints it, and the README's table."""

from __future__ import annotations

from metricdsl.codes import CODES, Code


def explanation(code: Code) -> str:
    """What the code means, why it matters, an example and how to fix it, as `metricdsl explain CODE` prints it."""
    example = "\n".join(f"    {line}" for line in code.example.splitlines())
    return (
        f"{code.code}: {code.title} ({code.severity.value})\n\n{code.what}\n\nWhy: {code.why}\n\n"
        f"Example:\n\n{example}\n\nHow to fix: {code.fix}\n"
    )


def codes_table() -> str:
    """The Markdown table of every diagnostic code, as the README shows it."""
    rows = [f"| `{c.code}` | {c.severity.value} | {c.title} | {c.what} |" for c in CODES.values()]
    return "\n".join(["| code | severity | title | meaning |", "|---|---|---|---|", *rows])
