r"""GitHub Actions workflow commands (`::error file=F,line=L,title=T::message`), escaped in one place.

The escaping is that of GitHub's own toolkit (`@actions/core`, `command.ts`): in the message `%`, CR and
LF are percent-encoded, so a multi-line message stays one command; in a property value `:` and `,`
are too, so a value cannot end the property list or start a new property. The runner shows a command's message
in the log, which draws colours, so its other control characters are first written visibly (`terminal`).

The runner reads every line a step prints, in any format, and runs one that starts (after blanks) with `::` or
`##[` as a command: `inert` keeps a line of text output that starts with a value from data or a spec (a team's
name, a file path) from being one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from metricdsl.render.terminal import inline, multiline

Level = Literal["notice", "warning", "error"]

# A line's start, after blanks (the runner trims Unicode white space), with the marker of a workflow command.
_COMMAND_START = re.compile(r"(?:^|(?<=[\r\n]))([^\S\r\n]*)(::|##\[)")


def escape_data(text: str) -> str:
    """A command's message: `%` → `%25`, CR → `%0D`, LF → `%0A`."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as a message, and `:` → `%3A`, `,` → `%2C`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: Level, message: str, properties: Mapping[str, object | None]) -> str:
    """One workflow command on one line; properties that are None or empty are left out.

    The message keeps its line breaks (the annotation shows them); a property is one line.
    """
    given = ",".join(
        f"{key}={escape_property(inline(value))}" for key, value in properties.items() if value not in (None, "")
    )
    return f"::{level}{' ' + given if given else ''}::{escape_data(multiline(message))}"


def inert(text: str) -> str:
    r"""`text` with no line the runner would take for a workflow command: the first character of a line's `::` or
    `##[` is written as `\x3a` or `\x23`, as `terminal` writes characters."""
    return _COMMAND_START.sub(lambda m: f"{m.group(1)}\\x{ord(m.group(2)[0]):02x}{m.group(2)[1:]}", text)
