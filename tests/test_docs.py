"""The README stays in step with the code."""

from __future__ import annotations

from conftest import ROOT
from metricdsl.render.codes import codes_table


def test_readme_table_of_codes_is_generated_from_the_registry():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- codes:start -->\n")[1].split("<!-- codes:end -->")[0]
    assert section.strip() == codes_table()
