"""Projects whose sources are in given time zones, for tests that build them from specs without `timezone:`, and
projects whose weeks start on a given day."""

from __future__ import annotations

import dataclasses

import metricdsl

# The projects made, by the id of the one they were made from and the zones; that one is kept, so its id is not reused.
_ZONED: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[metricdsl.Project, metricdsl.Project]] = {}


def in_zones(project: metricdsl.Project, zones: dict[str, str]) -> metricdsl.Project:
    """`project` with each source named in `zones` in that zone (the others in the project's zone)."""
    key = (id(project), tuple(sorted(zones.items())))
    if key not in _ZONED:
        sources = {name: dataclasses.replace(s, timezone=zones.get(name)) for name, s in project.definitions.sources.items()}
        definitions = dataclasses.replace(project.definitions, sources=sources)
        model = dataclasses.replace(project.model, definitions=definitions)
        _ZONED[key] = (project, metricdsl.Project(definitions, model, project.diagnostics))
    return _ZONED[key][1]


def with_week_start(project: metricdsl.Project, week_start: str) -> metricdsl.Project:
    """`project` with its calendar's weeks starting on `week_start` (`monday` or `sunday`)."""
    key = (id(project), (("week_start", week_start),))
    if key not in _ZONED:
        calendar = dataclasses.replace(project.definitions.calendar, week_start=week_start)
        definitions = dataclasses.replace(project.definitions, calendar=calendar)
        model = dataclasses.replace(project.model, definitions=definitions)
        _ZONED[key] = (project, metricdsl.Project(definitions, model, project.diagnostics))
    return _ZONED[key][1]
