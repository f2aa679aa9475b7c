"""The outcomes of the specs' own tests as a JUnit XML report, for CI test summaries.

ElementTree escapes `<`, `&` and quotes, but writes any character it is given, and a control character other than
tab, LF and CR, a surrogate, U+FFFE or U+FFFF makes the file invalid XML 1.0. So every text and attribute from
specs and data is written as `terminal` writes it: those characters, and the others that could steer a terminal
(ESC, bidirectional overrides), are written visibly.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree

from metricdsl.render.spectests import SpecOutcome, failure_text
from metricdsl.render.terminal import inline, multiline


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
            name=inline(outcome.test.name),
            classname=inline(location.file) if location else "specs",
            file=inline(location.file) if location else "",
            line=str(location.line if location else 0),
        )
        if not outcome.passed:
            failures = [multiline(failure_text(failure)) for failure in outcome.failures]
            failure = ElementTree.SubElement(case, "failure", message=inline(failure_text(outcome.failures[0])))
            failure.text = "\n".join(failures)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
