"""GitHub Actions workflow commands (`::error file=F,line=L,title=T::message`), escaped in one place.

The escaping is that of GitHub's own toolkit (`@actions/core`, `command.ts`): in the message `%`, CR and
LF are percent-encoded, so a multi-line message stays one command; in a property value `:` and `,`
are too, so a value cannot end the property list or start a new property.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Level = Literal["notice", "warning", "error"]


def escape_data(text: str) -> str:
    """A command's message: `%` → `%25`, CR → `%0D`, LF → `%0A`."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as a message, and `:` → `%3A`, `,` → `%2C`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: Level, message: str, properties: Mapping[str, object | None]) -> str:
    """One workflow command on one line; properties that are None or empty are left out."""
    given = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value not in (None, ""))
    return f"::{level}{' ' + given if given else ''}::{escape_data(message)}"
