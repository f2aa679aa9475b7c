"""Shared fixtures: the standard library project and typed frames built from a few rows."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import polars as pl
import pytest
from hypothesis import settings

import metricdsl
from metricdsl.engine.polars.dtypes import DTYPES

# Property tests draw the same cases on every run ("ci"), so that a suite that passed on a commit passes again on
# it; HYPOTHESIS_PROFILE=explore draws new ones, to look for more.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture(scope="session")
def project() -> metricdsl.Project:
    return metricdsl.load(SPECS)


def frame(project: metricdsl.Project, source: str, rows: list[dict]) -> pl.DataFrame:
    """A frame of `source` with every declared column, typed; absent values are null."""
    schema = {name: DTYPES[column.type] for name, column in project.definitions.sources[source].columns.items()}
    return pl.DataFrame(rows, schema=schema)


# A horizon after every fixture: its rows are all the data there is, and no window is censored at its last row (as in
# the specs' `tests:`).
COMPLETE = datetime.datetime(9999, 1, 1, tzinfo=datetime.timezone.utc)


def evaluate(
    project: metricdsl.Project, interactions: list[dict], orders: list[dict] = (), *, complete: bool = True, **request
) -> list[dict]:
    """Evaluate a request over a few rows; one dict per group. With `complete`, the rows are all the data there is
    (`as_of` after them all) and the `provisional` column, then always false, is left out."""
    data = {
        "interactions": frame(project, "interactions", list(interactions)),
        "orders": frame(project, "orders", list(orders)),
    }
    if complete:
        return project.evaluate(data, as_of=COMPLETE, **request).drop("provisional", strict=False).to_dicts()
    return project.evaluate(data, **request).to_dicts()


def value(project: metricdsl.Project, metric: str, interactions: list[dict], orders: list[dict] = ()):
    """The single overall value of `metric` over the rows given."""
    (row,) = evaluate(project, interactions, orders, metrics=[metric])
    return row[metric]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite the golden files of rendered output.")
