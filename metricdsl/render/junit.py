"""The outcomes of the specs' own tests as a JUnit XML report, for CI test summaries."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

from metricdsl.render.spectests import SpecOutcome, failure_text


def junit_report(outcomes: Sequence[SpecOutcome]) -> str:
    """One test case per spec test; a failed one holds its first failure as message and all as text."""
    suite = ElementTree.Element(
        "testsuite", name="metricdsl", tests=str(len(outcomes)), failures=str(sum(not o.passed for o in outcomes))
    )
    for outcome in outcomes:
        location = outcome.test.location
        case = ElementTree.SubElement(
            suite,
            "testcase",
            name=outcome.test.name,
            classname=location.file if location else "specs",
            file=location.file if location else "",
            line=str(location.line if location else 0),
        )
        if not outcome.passed:
            failures = [failure_text(failure) for failure in outcome.failures]
            failure = ElementTree.SubElement(case, "failure", message=failures[0])
            failure.text = "\n".join(failures)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
