"""The JSON Schema of spec files agrees with the loader."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from conftest import SPECS
from metricdsl.spec.definitions import TOP_KEYS
from metricdsl.spec.json_schema import FIELDS, LOADER_KEYS, spec_schema
from metricdsl.spec.loader import load_text


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_standard_spec_file_validates(path):
    jsonschema.Draft202012Validator(spec_schema()).validate(yaml.safe_load(path.read_text()))


def test_schema_and_loader_accept_the_same_keys():
    assert {kind: set(fields) for kind, fields in FIELDS.items()} == {k: set(v) for k, v in LOADER_KEYS.items()}
    assert set(spec_schema()["properties"]) == set(TOP_KEYS)


def test_schema_rejects_an_unknown_key():
    validator = jsonschema.Draft202012Validator(spec_schema())
    assert not validator.is_valid({"metrics": {"nps": {"expr": "count()", "lable": "NPS"}}})
    assert validator.is_valid({"metrics": {"nps": "count()"}})


@pytest.mark.parametrize(
    "spec",
    [
        {"metrics": {"asa__status": "count()"}},
        {"sources": {"calls": {"columns": {"was__answered": "bool"}}}},
        {"sources": {"calls": {"columns": {"answered": "bool"}, "derive": {"__answered": "answered"}}}},
    ],
    ids=["metric", "column", "derived column"],
)
def test_schema_rejects_a_reserved_name(spec):
    validator = jsonschema.Draft202012Validator(spec_schema())
    assert not validator.is_valid(spec)
    assert validator.is_valid(json.loads(json.dumps(spec).replace("__", "_")))


def calls(columns: dict[str, str], derive: dict[str, str] | None = None) -> dict[str, object]:
    return {"sources": {"calls": {"columns": columns, **({"derive": derive} if derive else {})}}}


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ({"metrics": {"first contact": "count()"}}, {"metrics": {"first_contact": "count()"}}),
        (calls({'x"y': "bool"}), calls({"x_y": "bool"})),
        (calls({"a": "bool"}, {"not\x1b[31m": "not a"}), calls({"a": "bool"}, {"not_a": "not a"})),
        (
            {"tests": [{"name": "two\nlines", "expect": {"n": 1}}]},
            {"tests": [{"name": 'one line, "quoted" é', "expect": {"n": 1}}]},
        ),
    ],
    ids=["metric", "column", "derived column", "test"],
)
def test_schema_rejects_an_invalid_name_as_the_loader_does(bad, good):
    validator = jsonschema.Draft202012Validator(spec_schema())
    assert not validator.is_valid(bad)
    assert validator.is_valid(good)
    assert "MD012" in {d.code for d in load_text("spec.yaml", yaml.safe_dump(bad))[1]}
    assert "MD012" not in {d.code for d in load_text("spec.yaml", yaml.safe_dump(good))[1]}
