"""Confidence intervals and significance tests: published examples, SciPy, properties, edge cases."""

from __future__ import annotations

import math
import statistics

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricdsl.engine.stats import (
    EXPANSION_DF,
    Interval,
    difference_interval,
    difference_se,
    mean_interval,
    mean_se,
    share_se,
    significant_change,
    significant_mean_change,
    t_quantile,
    t_quantile_expr,
    wilson_interval,
    z_quantile,
)

P, N = pl.col("p"), pl.col("n")
PROPERTY = settings(max_examples=40, deadline=None)
T_GRID_P = [0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9995, 0.9999]
T_GRID_DF = [*range(1, 201), 1000, 1e6, 1.5, 2.5, 7.25, 150.5, EXPANSION_DF + 0.5, 1e4, 1e5]


def evaluate(columns: dict[str, list], **exprs: pl.Expr) -> dict[str, list]:
    """Evaluate named expressions over a frame of `columns`; one list per name."""
    return pl.DataFrame(columns).select(**exprs).to_dict(as_series=False)


def wilson(p: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson bounds of one share, from the Wilson (1927) closed form."""
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def interval(bounds: Interval, **columns: list) -> list[tuple]:
    """The (lower, upper) pairs of `bounds` over a frame of `columns`."""
    out = evaluate(columns, lower=bounds.lower, upper=bounds.upper)
    return list(zip(out["lower"], out["upper"], strict=False))


# --- published and closed-form values -----------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe_1998(k, n, lower, upper):
    # Newcombe (1998), Stat. Med. 17:857, Table II, method 3 (score interval without correction).
    ((low, high),) = interval(wilson_interval(P, N), p=[k / n], n=[n])
    assert (round(low, 4), round(high, 4)) == (lower, upper)


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.706),
        (0.975, 10, 2.228),
        (0.975, 30, 2.042),
        (0.95, 5, 2.015),
        (0.995, 20, 2.845),
        (0.9995, 3, 12.924),
        (0.9, 60, 1.296),
        (0.99, 120, 2.358),
    ],
)
def test_t_quantile_matches_printed_tables(p, df, expected):
    assert round(t_quantile(p, df), 3) == expected


@pytest.mark.parametrize("p", [0.5001, 0.6, 0.8, 0.9, 0.975, 0.999, 0.9999, 0.99999999])
def test_t_quantile_closed_forms_for_one_and_two_df(p):
    # cot(π(1 − p)) rather than tan(π(p − 1/2)): 1 − p is exact, p − 1/2 near a pole is not.
    assert t_quantile(p, 1) == pytest.approx(1 / math.tan(math.pi * (1 - p)), rel=1e-12)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)


@pytest.mark.parametrize("df", [1, 1.5, 3, 4, 17.25, 300, 301, 1e6])
def test_t_quantile_near_one_half_is_linear(df):
    # t ≈ (p − 1/2) / f(0) with f(0) = Γ((df + 1)/2) / (sqrt(df π) Γ(df/2)); the cubic term is negligible.
    density = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    for offset in (1e-12, 1e-9, 1e-7):
        assert t_quantile(0.5 + offset, df) == pytest.approx(offset / density, rel=1e-6)


def test_mean_interval_of_students_sleep_data():
    # Cushny & Peebles' sleep data as analysed by Student (1908): paired differences, n = 10;
    # R's t.test(extra ~ group, data = sleep, paired = TRUE) gives 0.7001142 to 2.4598858.
    differences = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
    bounds = mean_interval(pl.col("mean"), pl.col("sd"), N)
    ((low, high),) = interval(bounds, mean=[statistics.mean(differences)], sd=[statistics.stdev(differences)], n=[10])
    assert (low, high) == pytest.approx((0.7001142, 2.4598858), abs=1e-7)


@pytest.mark.parametrize(("confidence", "significant"), [(0.95, False), (0.90, True)])
def test_welch_on_sleep_groups(confidence, significant):
    # R's t.test(extra ~ group, data = sleep): Welch t = -1.8608, df = 17.776, p = 0.07939.
    one = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    two = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    columns = {
        name: [value]
        for name, value in {
            "m1": statistics.mean(two),
            "s1": statistics.stdev(two),
            "n1": 10,
            "m0": statistics.mean(one),
            "s0": statistics.stdev(one),
            "n0": 10,
        }.items()
    }
    change = significant_mean_change(*map(pl.col, ("m1", "s1", "n1", "m0", "s0", "n0")), confidence=confidence)
    assert evaluate(columns, change=change)["change"] == [significant]


def test_nps_worked_example():
    # 100 answers, 50 % promoters and 20 % detractors: NPS 30, variance 0.5 + 0.2 - 0.3² = 0.61.
    se = 100 * math.sqrt(0.61 / 100)
    bounds = difference_interval(pl.col("a"), pl.col("b"), N, scale=100)
    out = evaluate(
        {"a": [0.5], "b": [0.2], "n": [100]},
        se=difference_se(pl.col("a"), pl.col("b"), N, 100),
        lower=bounds.lower,
        upper=bounds.upper,
    )
    assert out["se"] == pytest.approx([se])
    assert (out["lower"][0], out["upper"][0]) == pytest.approx((30 - 1.959964 * se, 30 + 1.959964 * se))


# --- agreement with SciPy -----------------------------------------------------------------------


def test_t_quantile_agrees_with_scipy_over_the_grid():
    scipy_stats = pytest.importorskip("scipy.stats")
    levels = [p for p in T_GRID_P if p > 0.5]
    worst = max(
        abs(t_quantile(p, df) / reference - 1)
        for df in T_GRID_DF
        for p, reference in zip(levels, scipy_stats.t.ppf(levels, df), strict=False)
    )
    assert worst < 1e-9
    assert all(t_quantile(0.5, df) == 0.0 for df in T_GRID_DF)


def test_t_quantile_expr_agrees_with_scipy_and_the_scalar():
    scipy_stats = pytest.importorskip("scipy.stats")
    dfs = [float(df) for df in range(1, EXPANSION_DF + 30)] + [1e3, 12345.0, 1e6, 1e9]
    for p in (0.9, 0.975, 0.9995):
        got = evaluate({"df": dfs}, t=t_quantile_expr(p, pl.col("df")))["t"]
        assert got == pytest.approx([t_quantile(p, df) for df in dfs], rel=1e-13)
        assert got == pytest.approx(list(scipy_stats.t.ppf(p, dfs)), rel=1e-9)


def test_z_quantile_agrees_with_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    levels = [1e-9, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.9999]
    assert [z_quantile(p) for p in levels] == pytest.approx(list(scipy_stats.norm.ppf(levels)), rel=1e-12)


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_agrees_with_scipy_binomtest(confidence):
    scipy_stats = pytest.importorskip("scipy.stats")
    cases = [(k, n) for n in (1, 2, 7, 30, 263, 5000) for k in sorted({0, 1, n // 3, n // 2, n - 1, n})]
    expected = []
    for k, n in cases:
        ci = scipy_stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        expected.append((ci.low, ci.high))
    got = interval(wilson_interval(P, N, confidence), p=[k / n for k, n in cases], n=[n for _, n in cases])
    assert [bound for pair in got for bound in pair] == pytest.approx(
        [bound for pair in expected for bound in pair], rel=1e-9, abs=1e-15
    )


def test_mean_interval_agrees_with_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    ns = [2, 3, 5, 10, 31, 299, 300, 301, 302, 1000, 50_000]
    got = interval(mean_interval(pl.col("mean"), pl.col("sd"), N, 0.99), mean=[3.5] * len(ns), sd=[2.0] * len(ns), n=ns)
    expected = [scipy_stats.t.interval(0.99, n - 1, loc=3.5, scale=2.0 / math.sqrt(n)) for n in ns]
    assert [b for pair in got for b in pair] == pytest.approx([b for pair in expected for b in pair], rel=1e-10)


def test_welch_decision_agrees_with_scipy_off_the_rounding_band():
    scipy_stats = pytest.importorskip("scipy.stats")
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    size = 400
    columns = {
        "m1": rng.normal(0, 1, size),
        "s1": rng.uniform(0.5, 3, size),
        "n1": rng.integers(2, 60, size),
        "m0": rng.normal(0, 1, size),
        "s0": rng.uniform(0.5, 3, size),
        "n0": rng.integers(2, 60, size),
    }
    change = significant_mean_change(*map(pl.col, columns), confidence=0.95)
    got = evaluate({k: v.tolist() for k, v in columns.items()}, change=change)["change"]
    v1, v0 = columns["s1"] ** 2 / columns["n1"], columns["s0"] ** 2 / columns["n0"]
    df = (v1 + v0) ** 2 / (v1**2 / (columns["n1"] - 1) + v0**2 / (columns["n0"] - 1))
    statistic = np.abs(columns["m1"] - columns["m0"]) / np.sqrt(v1 + v0)
    # Inside the lookup range a fractional df is rounded down: a slightly wider, conservative test.
    band = (statistic > scipy_stats.t.ppf(0.975, df)) & (statistic <= scipy_stats.t.ppf(0.975, np.floor(df)))
    reference = (
        scipy_stats.ttest_ind_from_stats(
            columns["m1"], columns["s1"], columns["n1"], columns["m0"], columns["s0"], columns["n0"], equal_var=False
        ).pvalue
        < 0.05
    )
    assert got == [bool(r) and not b for r, b in zip(reference, band, strict=False)]
    assert 20 < sum(got) < size - 20


# --- properties ---------------------------------------------------------------------------------

shares = st.lists(st.tuples(st.floats(0, 1), st.integers(1, 10**6)), min_size=1, max_size=12)


@PROPERTY
@given(shares, st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999]))
def test_wilson_contains_the_share_within_unit_range(rows, confidence):
    ps, ns = [p for p, _ in rows], [n for _, n in rows]
    got = interval(wilson_interval(P, N, confidence), p=ps, n=ns)
    for (low, high), p, n in zip(got, ps, ns, strict=False):
        assert 0.0 <= low <= p <= high <= 1.0
        assert (low, high) == pytest.approx(wilson(p, n, confidence), rel=1e-9, abs=1e-12)


@PROPERTY
@given(shares, st.integers(1, 1000))
def test_wilson_shrinks_as_n_grows(rows, extra):
    ps, ns = [p for p, _ in rows], [n for _, n in rows]
    small = interval(wilson_interval(P, N), p=ps, n=ns)
    large = interval(wilson_interval(P, N), p=ps, n=[n + extra for n in ns])
    assert all(h2 - l2 < h1 - l1 for (l1, h1), (l2, h2) in zip(small, large, strict=False))


means = st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(1e-3, 1e4), st.integers(2, 10**6)), min_size=1, max_size=12)


@PROPERTY
@given(means, st.integers(1, 1000))
def test_mean_interval_contains_the_mean_and_shrinks(rows, extra):
    mean, sd, n = (list(column) for column in zip(*rows, strict=False))
    bounds = mean_interval(pl.col("mean"), pl.col("sd"), N)
    assert all(low <= m <= high for (low, high), m in zip(interval(bounds, mean=mean, sd=sd, n=n), mean, strict=False))
    # Widths at mean 0, where subtracting the bounds loses nothing to rounding.
    zero = [0.0] * len(mean)
    small = interval(bounds, mean=zero, sd=sd, n=n)
    large = interval(bounds, mean=zero, sd=sd, n=[count + extra for count in n])
    assert all(h2 - l2 < h1 - l1 for (l1, h1), (l2, h2) in zip(small, large, strict=False))


answers = st.lists(
    st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)).filter(any), min_size=1, max_size=12
)


@PROPERTY
@given(answers, st.integers(2, 10))
def test_difference_interval_contains_the_estimate_and_shrinks(rows, factor):
    n = [a + b + rest for a, b, rest in rows]
    columns = {
        "a": [a / total for (a, _, _), total in zip(rows, n, strict=False)],
        "b": [b / total for (_, b, _), total in zip(rows, n, strict=False)],
    }
    bounds = difference_interval(pl.col("a"), pl.col("b"), N, scale=100)
    small = interval(bounds, **columns, n=n)
    large = interval(bounds, **columns, n=[total * factor for total in n])
    for (l1, h1), (l2, h2), a, b in zip(small, large, columns["a"], columns["b"], strict=False):
        assert l1 <= 100 * (a - b) <= h1
        assert h2 - l2 < h1 - l1 or h1 - l1 == 0.0


estimates = st.floats(-1e6, 1e6)
errors = st.floats(0, 1e3)


@PROPERTY
@given(st.lists(st.tuples(estimates, errors, estimates, errors), min_size=1, max_size=12))
def test_significant_change_is_symmetric_and_false_without_change(rows):
    now, se_now, before, se_before = (list(column) for column in zip(*rows, strict=False))
    columns = {"x": now, "sx": se_now, "y": before, "sy": se_before}
    x, sx, y, sy = map(pl.col, columns)
    out = evaluate(
        columns,
        forward=significant_change(x, sx, y, sy),
        backward=significant_change(y, sy, x, sx),
        same=significant_change(x, sx, x, sy),
    )
    assert out["forward"] == out["backward"]
    assert not any(out["same"])


@PROPERTY
@given(
    st.lists(
        st.tuples(estimates, errors, st.integers(2, 500), estimates, errors, st.integers(2, 500)), min_size=1, max_size=12
    )
)
def test_significant_mean_change_is_symmetric_and_false_without_change(rows):
    columns = dict(
        zip(("m1", "s1", "n1", "m0", "s0", "n0"), (list(column) for column in zip(*rows, strict=False)), strict=False)
    )
    m1, s1, n1, m0, s0, n0 = map(pl.col, columns)
    out = evaluate(
        columns,
        forward=significant_mean_change(m1, s1, n1, m0, s0, n0),
        backward=significant_mean_change(m0, s0, n0, m1, s1, n1),
        same=significant_mean_change(m1, s1, n1, m1, s0, n0),
    )
    assert out["forward"] == out["backward"]
    assert not any(out["same"])


# --- edge cases ---------------------------------------------------------------------------------


def test_wilson_is_null_without_trials_or_share():
    counts = pl.Series([0, None, 10, 10, 10], dtype=pl.UInt32)
    got = interval(wilson_interval(P, N), p=[0.5, 0.5, None, -0.1, 1.1], n=counts)
    assert got == [(None, None)] * 5


def test_wilson_is_not_degenerate_at_zero_and_one():
    (zero_low, zero_high), (one_low, one_high) = interval(wilson_interval(P, N), p=[0.0, 1.0], n=[10, 10])
    assert zero_low == 0.0
    assert zero_high == pytest.approx(wilson(0.0, 10)[1])
    assert zero_high > 0.2
    assert one_high == 1.0
    assert one_low == pytest.approx(1 - zero_high)
    assert one_low < 0.8


def test_mean_interval_needs_two_observations():
    counts = pl.Series([0, 1, None, 2, 2], dtype=pl.UInt32)
    bounds = mean_interval(pl.col("mean"), pl.col("sd"), N)
    got = interval(bounds, mean=[1.0, 1.0, 1.0, None, 1.0], sd=[1.0, 1.0, 1.0, 1.0, None], n=counts)
    assert got == [(None, None)] * 5
    out = evaluate({"sd": [2.0, 2.0], "n": pl.Series([1, 4], dtype=pl.UInt8)}, se=mean_se(pl.col("sd"), N))
    assert out["se"] == [None, 1.0]


def test_standard_errors_and_differences_are_null_without_respondents():
    counts = pl.Series([0, None, 4], dtype=pl.UInt32)
    a, b = pl.col("a"), pl.col("b")
    out = evaluate(
        {"a": [0.5, 0.5, 0.5], "b": [0.25, 0.25, 0.25], "n": counts},
        share=share_se(a, N),
        difference=difference_se(a, b, N),
        low=difference_interval(a, b, N).lower,
    )
    assert out["share"] == [None, None, 0.25]
    assert out["difference"] == [None, None, pytest.approx(math.sqrt((0.75 - 0.0625) / 4))]
    assert out["low"][:2] == [None, None]


@pytest.mark.parametrize("missing", range(4))
def test_significant_change_is_null_when_any_input_is(missing):
    values: list = [5.0, 1.0, 1.0, 1.0]
    values[missing] = None
    columns = {name: pl.Series([value], dtype=pl.Float64) for name, value in zip("abcd", values, strict=False)}
    assert evaluate(columns, s=significant_change(*map(pl.col, "abcd")))["s"] == [None]


def test_significant_mean_change_without_spread_flags_any_difference():
    columns = {"m1": [1.0, 1.0], "s1": [0.0, 0.0], "n1": [5, 5], "m0": [1.0, 1.5], "s0": [0.0, 0.0], "n0": [5, 5]}
    assert evaluate(columns, s=significant_mean_change(*map(pl.col, columns)))["s"] == [False, True]


@pytest.mark.parametrize("missing", range(6))
def test_significant_mean_change_is_null_when_any_input_is(missing):
    values: list = [5.0, 1.0, 10.0, 1.0, 1.0, 10.0]
    values[missing] = None
    columns = {name: pl.Series([value], dtype=pl.Float64) for name, value in zip("abcdef", values, strict=False)}
    assert evaluate(columns, s=significant_mean_change(*map(pl.col, "abcdef")))["s"] == [None]


def test_t_quantile_expr_domain():
    dfs = [0.0, 0.5, 1.0, 1.9, None, float("nan"), float("inf")]
    got = evaluate({"df": dfs}, t=t_quantile_expr(0.975, pl.col("df")))["t"]
    assert got[:2] == [None, None]
    assert got[4:6] == [None, None]
    assert got[2] == got[3] == pytest.approx(12.7062047)
    assert got[6] == pytest.approx(z_quantile(0.975), rel=1e-15)


def test_t_quantile_expr_works_inside_an_aggregation():
    frame = pl.DataFrame({"g": [1, 1, 2, 2, 2]})
    out = frame.group_by("g").agg(t=t_quantile_expr(0.975, pl.len())).sort("g")
    assert out["t"].to_list() == pytest.approx([t_quantile(0.975, 2), t_quantile(0.975, 3)])


def test_scalar_helpers_validate_their_arguments():
    assert t_quantile(0.025, 10) == -t_quantile(0.975, 10)
    for bad in (
        lambda: t_quantile(1.0, 5),
        lambda: t_quantile(0.9, 0.5),
        lambda: z_quantile(0.0),
        lambda: wilson_interval(P, N, confidence=1.0),
        lambda: mean_interval(P, P, N, confidence=0.0),
    ):
        with pytest.raises(ValueError, match=r"strictly between 0 and 1|degrees of freedom must be"):
            bad()
