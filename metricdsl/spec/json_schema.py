"""The JSON Schema of spec files, for editors (`metricdsl schema`); built from the keys the loader reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from metricdsl.spec.definitions import (
    CALENDAR_KEYS,
    COLUMN_KEYS,
    COLUMN_TYPES,
    CSV_ENCODINGS,
    CSV_KEYS,
    DASHBOARD_KEYS,
    DIRECTIONS,
    GRAINS,
    ITEM_KEYS,
    METRIC_KEYS,
    ON_INVALID,
    OVERRIDE_KEYS,
    RESERVED,
    RULE_KEYS,
    SCORECARD_KEYS,
    SEVERITIES,
    SOURCE_KEYS,
    TARGET_KEYS,
    TEST_KEYS,
    WEEK_STARTS,
)

Json: TypeAlias = "str | int | float | bool | Sequence[Json] | Mapping[str, Json] | None"
Schema: TypeAlias = Mapping[str, Json]
"""A JSON Schema, or a part of one."""

# Names that are not identifiers (MD012) or contain `RESERVED` (`__`, MD008) are rejected by the loader, and so by
# editors; so is a test's name with a control character (MD012).
UNRESERVED: Schema = {"not": {"pattern": RESERVED}}
NAME: Schema = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", **UNRESERVED}
TEXT: Schema = {"type": "string"}
LABEL: Schema = {"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"}
EXPRESSION: Schema = {"type": ["string", "number", "boolean"], "description": "An expression of the metricdsl language."}
TEXTS: Schema = {"anyOf": [TEXT, {"type": "array", "items": TEXT}]}
THRESHOLD: Schema = {"type": "string", "description": 'A comparison with the metric on its left, as "< 30" or ">= 420s".'}
DATE: Schema = {"description": "A date, as 2026-01-31."}
ZONE: Schema = {
    "type": "string",
    "pattern": "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
    "description": "An IANA time zone, such as Europe/Berlin or America/New_York.",
}
# `on_invalid: null` is the word `null`, which YAML reads as null.
ON_INVALID_CHOICE: Schema = {"enum": [*ON_INVALID, None], "description": "null: missing and reported; error: a data error."}
# Texts of a CSV file, compared as written: YAML reads `[Y, yes, 1]` as a text, a boolean and a number.
CSV_TEXTS: Schema = {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}}

FIELDS: dict[str, dict[str, Schema]] = {
    "source": {
        "description": TEXT,
        "path": {**TEXT, "description": "Default input file, relative to this file."},
        "time": {**TEXT, "description": "The event-time column: grains and windows use it."},
        "timezone": {**ZONE, "description": "The zone its times are local to; default: the calendar's, else UTC."},
        "complete_until": {
            "description": "The time up to which its data is complete (local time, as 2026-02-01T23:59:59): windows "
            "that reach past it are unknown; default: the latest time in its data."
        },
        "csv": {"$ref": "#/$defs/csv"},
        "on_invalid": ON_INVALID_CHOICE,
        "entities": {"type": "object", "additionalProperties": TEXT},
        "columns": {"type": "object", "propertyNames": NAME, "additionalProperties": {"$ref": "#/$defs/column"}},
        "derive": {"type": "object", "propertyNames": NAME, "additionalProperties": EXPRESSION},
    },
    "column": {
        "type": {"enum": list(COLUMN_TYPES)},
        "unit": TEXT,
        "format": {
            "type": "string",
            "pattern": "%",
            "description": "How a datetime or date column is written, in chrono's strftime, as %m/%d/%Y %H:%M.",
        },
        "values": {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 1},
        "range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "on_invalid": ON_INVALID_CHOICE,
        "description": TEXT,
    },
    "csv": {
        "separator": {"type": "string", "pattern": "^(?:.|\\\\t)$", "description": 'One character, as ";" or "\\t".'},
        "decimal_comma": {"type": "boolean"},
        "encoding": {"enum": list(CSV_ENCODINGS)},
        "null_values": CSV_TEXTS,
        "true_values": {**CSV_TEXTS, "minItems": 1},
        "false_values": {**CSV_TEXTS, "minItems": 1},
        "skip_rows": {"type": "integer", "minimum": 0},
        "comment_prefix": {"type": "string", "minLength": 1},
    },
    "calendar": {
        "timezone": ZONE,
        "week_start": {
            "enum": list(WEEK_STARTS),
            "description": "monday: ISO weeks, labelled 2026-W01; sunday: Sunday to Saturday, labelled by their first day.",
        },
    },
    "metric": {
        "expr": {
            **EXPRESSION,
            "description": "Aggregates of its source's rows, or metrics of metrics, which may compare periods "
            "(prev(m), change(m), pct_change(m)) and groups of a period: of_total(m), spread(m, dimension).",
        },
        "label": TEXT,
        "short": {"type": "string", "description": "A short label for table headers; the label stands for it."},
        "description": TEXT,
        "unit": TEXT,
        "better": {"enum": list(DIRECTIONS)},
        "where": EXPRESSION,
        "min_n": {"type": "integer", "minimum": 0},
        "source": TEXT,
        "trailing": {
            "type": "string",
            "pattern": r"^\s*[1-9][0-9]{0,5}\s*([smhdw]|periods?)\s*$",
            "description": "Pool the rows of a trailing window ending with each period: `4w`, `28d` or `4 periods`.",
        },
    },
    "dashboard": {
        "metrics": TEXTS,
        "title": TEXT,
        "description": TEXT,
        "by": TEXTS,
        "grain": {"enum": list(GRAINS)},
        "scorecard": TEXT,
        "sections": {
            "type": "object",
            "additionalProperties": TEXTS,
            "description": "Titled groups of the dashboard's metrics, in order, for its report.",
        },
    },
    "target": {
        **{key: THRESHOLD for key in ("target", "warn", "fail")},
        "when": EXPRESSION,
        "from": DATE,
        "until": DATE,
        "overrides": {"type": "array", "items": {"$ref": "#/$defs/override"}},
    },
    "override": {**{key: THRESHOLD for key in ("target", "warn", "fail")}, "when": EXPRESSION, "from": DATE, "until": DATE},
    "rule": {
        "when": EXPRESSION,
        "severity": {"enum": list(SEVERITIES)},
        "message": TEXT,
        "description": TEXT,
        "for": {"type": ["integer", "string"], "description": "Consecutive periods, as `2` or `2 periods`."},
    },
    "scorecard": {
        "items": {"type": "object", "additionalProperties": {"$ref": "#/$defs/item"}},
        "cap": {"type": "number"},
        "title": TEXT,
        "description": TEXT,
    },
    "item": {
        "weight": {"type": "number", "exclusiveMinimum": 0},
        "floor": {"type": "number"},
        "ceiling": {"type": "number"},
        "critical": {"type": "boolean"},
    },
    "test": {
        "name": LABEL,
        "given": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}},
        "expect": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]},
        "by": TEXTS,
        "grain": {"enum": list(GRAINS)},
        "tolerance": {"type": "number", "minimum": 0},
        "ignore_min_n": {"type": "boolean"},
        "findings": TEXTS,
        "scorecard": TEXT,
    },
}
REQUIRED: dict[str, list[str]] = {
    "source": ["columns"],
    "column": ["type"],
    "csv": [],
    "calendar": [],
    "metric": ["expr"],
    "dashboard": ["metrics"],
    "target": [],
    "override": [],
    "rule": ["when"],
    "scorecard": ["items"],
    "item": ["floor", "ceiling"],
    "test": ["name", "expect"],
}
LOADER_KEYS: dict[str, tuple[str, ...]] = {
    "source": SOURCE_KEYS,
    "column": COLUMN_KEYS,
    "csv": CSV_KEYS,
    "calendar": CALENDAR_KEYS,
    "metric": METRIC_KEYS,
    "dashboard": DASHBOARD_KEYS,
    "target": TARGET_KEYS,
    "override": OVERRIDE_KEYS,
    "rule": RULE_KEYS,
    "scorecard": SCORECARD_KEYS,
    "item": ITEM_KEYS,
    "test": TEST_KEYS,
}


def spec_schema() -> dict[str, Json]:
    """The JSON Schema (2020-12) of one spec file."""
    definitions: dict[str, Schema] = {
        kind: {"type": "object", "additionalProperties": False, "properties": fields, "required": REQUIRED[kind]}
        for kind, fields in FIELDS.items()
    }
    definitions["column"] = {"anyOf": [{"enum": list(COLUMN_TYPES)}, definitions["column"]]}
    definitions["metric"] = {"anyOf": [EXPRESSION, definitions["metric"]]}

    def named(kind: str) -> Schema:
        return {"type": "object", "propertyNames": NAME, "additionalProperties": {"$ref": f"#/$defs/{kind}"}}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "metricdsl spec file",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "sources": named("source"),
            "metrics": named("metric"),
            "dashboards": named("dashboard"),
            "targets": named("target"),
            "rules": named("rule"),
            "scorecards": named("scorecard"),
            "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}},
            "calendar": {"$ref": "#/$defs/calendar"},
        },
        "$defs": definitions,
    }
