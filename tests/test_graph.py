"""The dependency graph and impact analysis of the standard library."""

from __future__ import annotations

from click.testing import CliRunner

import metricdsl
from conftest import SPECS
from metricdsl.cli import main
from metricdsl.render.graph import render_graph
from metricdsl.semantics.graph import dependency_graph, impact, resolve


def test_impact_of_a_column_follows_derived_columns_windows_and_metrics_of_metrics(project):
    graph = dependency_graph(project.model)
    assert impact(graph, "column:interactions.wait_s") == [
        "derived:interactions.short_abandon",
        "metric:asa",
        "metric:service_level",
        "metric:abandon_rate",
        "dashboard:service_2_0",
        "target:asa",
        "rule:service_level_slipping",
        "target:service_level",
        "target:abandon_rate",
    ]
    assert impact(graph, "metric:fcr") == [
        "dashboard:agents",
        "dashboard:service_2_0",
        "dashboard:voice_of_customer",
        "scorecard:loyalty_driver",
        "target:fcr",
    ]
    customer = impact(graph, "column:orders.customer_id")
    assert {"metric:buy_again_30d", "metric:buy_more_30d", "metric:loyalty_index"} <= set(customer)
    assert "metric:spread_word_30d" not in customer  # it pairs customer_id with referred_by instead
    assert "metric:spread_word_30d" in impact(graph, "column:orders.referred_by")


def test_names_resolve_by_suffix_and_ambiguity_is_reported(project):
    graph = dependency_graph(project.model)
    assert resolve(graph, "nps") == ["metric:nps"]  # not its target
    assert resolve(graph, "cost_over_loyalty") == ["rule:cost_over_loyalty"]
    assert resolve(graph, "customer_id") == ["column:interactions.customer_id", "column:orders.customer_id"]
    result = CliRunner().invoke(main, ["graph", str(SPECS), "--impact", "customer_id"])
    assert result.exit_code == 2
    assert "column:orders.customer_id" in result.stderr


def test_mermaid_and_dot(project):
    graph = dependency_graph(project.model)
    mermaid = render_graph(graph, "mermaid")
    assert mermaid.startswith("flowchart LR")
    assert '["metric:nps"]' in mermaid
    dot = render_graph(graph, "dot")
    assert '"metric:nps" -> "dashboard:service_2_0";' in dot
    assert dot.endswith("}")


def test_the_calendar_zone_reaches_the_sources_without_a_zone_of_their_own(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        "sources:\n"
        "  calls: {time: t, columns: {t: datetime}}\n"
        "  berlin: {time: t, timezone: Europe/Berlin, columns: {t: datetime}}\n"
        "metrics:\n  calls_n: {expr: count(), source: calls}\n  berlin_n: {expr: count(), source: berlin}\n"
        "calendar: {timezone: America/New_York}\n"
    )
    graph = dependency_graph(metricdsl.load(tmp_path).model)
    assert graph["calendar:timezone"] == {"source:calls"}
    assert impact(graph, "calendar:timezone") == ["source:calls", "column:calls.t", "metric:calls_n"]
    assert resolve(graph, "timezone") == ["calendar:timezone"]
