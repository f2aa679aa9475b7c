"""Confidence intervals, standard errors and significance tests, as native Polars expressions.

The rule engine grades metrics on small aggregated tables (one row per group) and must not flag a
change that lies inside the noise. Every function here takes and returns `polars.Expr` over columns
of counts, proportions, means and standard deviations, so the computation stays vectorised: no
Python code runs per row. Inputs are cast to Float64 (an unsigned count minus one must not wrap).
`z` below is the two-sided normal quantile z_{1-α/2} for `confidence` = 1 − α, and every result
is null where its inputs are null or outside the stated domain. Results carry default names
(`lower`, `upper`, `se`, `t`, `significant`): alias them when selecting several at once.

Proportions (a share p of n trials)
    share_se:        sqrt(p(1 − p)/n), the unpooled (Wald) standard error.
    wilson_interval: the Wilson (1927) score interval, computed in a cancellation-free form
                     lower = 2np² / (2np + z² + z·sqrt(z² + 4np(1 − p))), and the upper bound
                     symmetrically as 1 − 2nq² / (2nq + z² + z·sqrt(z² + 4nq(1 − q))), q = 1 − p,
                     which equals the textbook (p + z²/2n ± z·sqrt(p(1 − p)/n + z²/4n²))/(1 + z²/n).
                     It stays inside [0, 1] and does not collapse at p = 0 or p = 1.
                     Newcombe (1998), Stat. Med. 17:857, method 3: 81/263 gives 0.2553–0.3662.

Means (a mean with sample standard deviation sd of n observations)
    mean_se:       sd / sqrt(n), null when n < 2 (a sample sd needs two observations).
    mean_interval: mean ± t_{1-α/2, n-1} · sd/sqrt(n), Student (1908).

Differences of exclusive shares of the same respondents (NPS = 100 · (promoters − detractors))
    difference_se:       scale · sqrt((p_a + p_b − (p_a − p_b)²)/n). The multinomial variance of
                         one response scored +1 (a), −1 (b) or 0 is p_a + p_b − (p_a − p_b)²; see
                         Rocks (2016), "Interval estimation for the 'Net Promoter Score'",
                         The American Statistician 70(4), its Wald interval.
    difference_interval: scale·(p_a − p_b) ± z · difference_se, a normal (Wald) approximation,
                         adequate when n·p_a and n·p_b are not tiny; it contains the estimate but
                         is not clipped to [−scale, scale].

Changes between two periods
    significant_change:      |now − before| > z·sqrt(se_now² + se_before²), a two-sided z test on
                             independent estimates (normal approximation; for shares pass the
                             unpooled `share_se`). For means of small samples it is liberal: use
    significant_mean_change: Welch's (1947) t test, |Δmean| > t_{1-α/2, ν}·sqrt(v_now + v_before),
                             v = sd²/n, with the Welch–Satterthwaite (1946) degrees of freedom
                             ν = (v_now + v_before)² / (v_now²/(n_now − 1) + v_before²/(n_before − 1)).

Quantiles
    z_quantile(p):      `statistics.NormalDist().inv_cdf` (Wichura 1988, AS 241).
    t_quantile(p, df):  Hill's (1970) CACM Algorithm 396 as the starting point, refined by
                        second-order Newton steps on the exact upper tail
                        P(T > t) = I_{df/(df+t²)}(df/2, 1/2) / 2, the regularized incomplete beta
                        evaluated by its continued fraction (modified Lentz; Numerical Recipes
                        §6.4) — the scheme of R's `qt`. Above `EXPANSION_DF` degrees of freedom it
                        uses the Cornish–Fisher expansion t = z + Σ g_k(z)/df^k, k ≤ 4
                        (Abramowitz & Stegun 26.7.5), whose truncation error is below 1e-9 there.
    t_quantile_expr(p, df): the same per row of an expression. Polars has no t distribution, so
                        the quantiles for df = 1..EXPANSION_DF are computed once per p (cached) and
                        looked up by whole df (`replace_strict`, a hash lookup that also works inside
                        `group_by().agg`); larger df use the expansion as an expression. A fractional
                        df is rounded down in the lookup range, which widens an interval slightly
                        (conservative); df < 1 or NaN gives null.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from statistics import NormalDist
from typing import NamedTuple

import polars as pl

EXPANSION_DF = 300
"""Degrees of freedom above which t quantiles come from the Cornish–Fisher expansion."""

_EPSILON = 1e-15
_TINY = 1e-300
_MAX_TERMS = 10_000
_MAX_NEWTON = 50


class Interval(NamedTuple):
    """The bounds of a confidence interval, as expressions named `lower` and `upper` (alias them)."""

    lower: pl.Expr
    upper: pl.Expr


# --- scalar quantiles -------------------------------------------------------------------------


def z_quantile(p: float) -> float:
    """The standard normal quantile: the z with P(Z ≤ z) = p, for 0 < p < 1."""
    _check_probability(p)
    return NormalDist().inv_cdf(p)


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile: the t with P(T ≤ t) = p for `df` ≥ 1 degrees of freedom (may be fractional).

    Relative accuracy better than 1e-9 for p in [0.5, 0.9999]; p below 0.5 by symmetry.
    """
    _check_probability(p)
    if not df >= 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    if df > EXPANSION_DF:
        return _polynomial(_cornish_fisher(p), 1.0 / df)
    return _refine(_hill(2.0 * (1.0 - p), df), 1.0 - p, df)


def _check_probability(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability strictly between 0 and 1 is required, got {p}")


def _two_sided(confidence: float) -> float:
    """The upper quantile level 1 − α/2 for a two-sided interval of level `confidence`."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    return 0.5 + confidence / 2.0


def _hill(two_tail: float, df: float) -> float:
    """Hill (1970), Algorithm 396: t with P(|T| > t) = `two_tail`; exact for df 1 and 2."""
    if df == 1.0:
        angle = two_tail * math.pi / 2.0
        return math.cos(angle) / math.sin(angle)
    if df == 2.0:
        return math.sqrt(2.0 / (two_tail * (2.0 - two_tail)) - 2.0)
    a = 1.0 / (df - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * math.sqrt(a * math.pi / 2.0) * df
    y = (d * two_tail) ** (2.0 / df)
    if y > 0.05 + a:
        x = NormalDist().inv_cdf(1.0 - two_tail / 2.0)
        y = x * x
        if df < 5.0:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x
        y = a * y * y
        y = math.expm1(y)
    else:
        y = ((1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0) + 0.5 / (df + 4.0)) * y - 1.0) * (
            df + 1.0
        ) / (df + 2.0) + 1.0 / y
    return math.sqrt(df * y)


def _refine(t: float, tail: float, df: float) -> float:
    """Newton steps with a second-order correction (as in R's `qt`) until P(T > t) = `tail`."""
    for _ in range(_MAX_NEWTON):
        step = (_upper_tail(t, df) - tail) / _density(t, df)
        step *= 1.0 + step * t * (df + 1.0) / (2.0 * (t * t + df))
        t += step
        if abs(step) <= 1e-14 * abs(t):
            break
    return t


def _density(t: float, df: float) -> float:
    """The Student t density."""
    log_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def _upper_tail(t: float, df: float) -> float:
    """P(T > t): for t > 0 half the regularized incomplete beta I_x(df/2, 1/2), x = df/(df + t²)."""
    if t <= 0.0:  # a Newton step may overshoot below zero when p is close to 1/2
        return 0.5 if t == 0.0 else 1.0 - _upper_tail(-t, df)
    a, b = df / 2.0, 0.5
    log_x = -math.log1p(t * t / df)
    log_y = 2.0 * math.log(t) - math.log(df + t * t)  # log(1 − x), without cancellation
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * log_x + b * log_y)
    if math.exp(log_x) < (a + 1.0) / (a + b + 2.0):
        return 0.5 * front * _beta_fraction(a, b, math.exp(log_x)) / a
    return 0.5 * (1.0 - front * _beta_fraction(b, a, math.exp(log_y)) / b)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, _nonzero(1.0 - (a + b) * x / (a + 1.0))
    d = 1.0 / d
    result = d
    for m in range(1, _MAX_TERMS):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0)),
        ):
            d = 1.0 / _nonzero(1.0 + numerator * d)
            c = _nonzero(1.0 + numerator / c)
            result *= d * c
        if abs(d * c - 1.0) < _EPSILON:
            return result
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (a={a}, b={b}, x={x})")


def _nonzero(value: float) -> float:
    return value if abs(value) > _TINY else _TINY


@lru_cache(maxsize=64)
def _cornish_fisher(p: float) -> tuple[float, ...]:
    """Coefficients of the expansion of t_p in powers of 1/df (Abramowitz & Stegun 26.7.5)."""
    z = NormalDist().inv_cdf(p)
    z2 = z * z
    return (
        z,
        z * (z2 + 1.0) / 4.0,
        z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0,
        z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0,
        z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0,
    )


def _polynomial(coefficients: tuple[float, ...], x: float) -> float:
    result = 0.0
    for coefficient in reversed(coefficients):
        result = result * x + coefficient
    return result


# --- expressions --------------------------------------------------------------------------------


def t_quantile_expr(p: float, df: pl.Expr) -> pl.Expr:
    """Student's t quantile at level `p` for the degrees of freedom in `df`, per row.

    Whole df up to `EXPANSION_DF` are looked up in a table computed once per `p` with `t_quantile`
    (a fractional df there is rounded down: conservative); larger df use the Cornish–Fisher
    expansion; df < 1, null or NaN give null.
    """
    whole_df = pl.Series(range(1, EXPANSION_DF + 1), dtype=pl.Int64)
    table = pl.Series(_t_table(p), dtype=pl.Float64)

    def quantile(df: pl.Expr) -> pl.Expr:
        looked_up = df.floor().cast(pl.Int64, strict=False).replace_strict(whole_df, table, default=None)
        expanded = _polynomial_expr(_cornish_fisher(p), 1.0 / df)
        return pl.when(df <= EXPANSION_DF).then(looked_up).otherwise(expanded)

    return _let(quantile, df=_float(df).fill_nan(None)).alias("t")


def _let(body: Callable[..., pl.Expr], **bindings: pl.Expr) -> pl.Expr:
    """`body` of the bound expressions, each evaluated once however often `body` uses it.

    The bindings become fields of a struct; without this, an expression used n times in a formula
    is a subtree copied n times, which compounds when formulas nest (Welch's df in a t quantile).
    """
    fields = {name: pl.field(name) for name in bindings}
    packed = pl.struct([value.alias(name) for name, value in bindings.items()])
    return packed.struct.with_fields(body(**fields).alias("_value")).struct.field("_value")


@lru_cache(maxsize=16)
def _t_table(p: float) -> tuple[float, ...]:
    """t_quantile(p, df) for df = 1..EXPANSION_DF, in that order."""
    return tuple(t_quantile(p, df) for df in range(1, EXPANSION_DF + 1))


def _polynomial_expr(coefficients: tuple[float, ...], x: pl.Expr) -> pl.Expr:
    result: pl.Expr = pl.lit(coefficients[-1])
    for coefficient in reversed(coefficients[:-1]):
        result = result * x + coefficient
    return result


def _float(expr: pl.Expr) -> pl.Expr:
    # Counts are often unsigned: `n - 1` must not wrap around at n = 0.
    return expr.cast(pl.Float64)


def share_se(p: pl.Expr, n: pl.Expr) -> pl.Expr:
    """The unpooled standard error sqrt(p(1 − p)/n) of a share; null unless n > 0 and 0 ≤ p ≤ 1."""
    p, n = _float(p), _float(n)
    return pl.when(_valid_share(p, n)).then((p * (1.0 - p) / n).sqrt()).alias("se")


def wilson_interval(p: pl.Expr, n: pl.Expr, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of a share `p` of `n` trials; null unless n > 0 and 0 ≤ p ≤ 1."""
    z = z_quantile(_two_sided(confidence))
    p, n = _float(p), _float(n)

    def lower(p: pl.Expr, n: pl.Expr) -> pl.Expr:
        root = (z * z + 4.0 * n * p * (1.0 - p)).sqrt()
        return pl.when(_valid_share(p, n)).then(2.0 * n * p * p / (2.0 * n * p + z * z + z * root))

    # The upper bound of p is one minus the lower bound of 1 − p.
    return _interval(_let(lower, p=p, n=n), 1.0 - _let(lower, p=1.0 - p, n=n))


def _interval(lower: pl.Expr, upper: pl.Expr) -> Interval:
    return Interval(lower.alias("lower"), upper.alias("upper"))


def _valid_share(p: pl.Expr, n: pl.Expr) -> pl.Expr:
    return (n > 0) & p.is_between(0.0, 1.0)


def mean_se(sd: pl.Expr, n: pl.Expr) -> pl.Expr:
    """The standard error sd/sqrt(n) of a mean; null when n < 2."""
    n = _float(n)
    return pl.when(n >= 2).then(_float(sd) / n.sqrt()).alias("se")


def mean_interval(mean: pl.Expr, sd: pl.Expr, n: pl.Expr, confidence: float = 0.95) -> Interval:
    """The Student t interval mean ± t_{1-α/2, n-1}·sd/sqrt(n); null when n < 2."""
    n = _float(n)
    half = t_quantile_expr(_two_sided(confidence), n - 1.0) * mean_se(sd, n)
    mean = _float(mean)
    return _interval(mean - half, mean + half)


def difference_se(p_a: pl.Expr, p_b: pl.Expr, n: pl.Expr, scale: float = 1.0) -> pl.Expr:
    """The standard error of scale·(p_a − p_b) for exclusive shares of the same `n`; null unless n > 0."""
    p_a, p_b, n = _float(p_a), _float(p_b), _float(n)
    # Clipped at 0 only against rounding: the variance is non-negative whenever p_a + p_b ≤ 1.
    variance = (p_a + p_b - (p_a - p_b) ** 2).clip(lower_bound=0.0)
    return pl.when(n > 0).then(abs(scale) * (variance / n).sqrt()).alias("se")


def difference_interval(p_a: pl.Expr, p_b: pl.Expr, n: pl.Expr, scale: float = 1.0, confidence: float = 0.95) -> Interval:
    """The normal-approximation interval scale·(p_a − p_b) ± z·`difference_se`; null unless n > 0."""
    z = z_quantile(_two_sided(confidence))
    estimate = scale * (_float(p_a) - _float(p_b))
    half = z * difference_se(p_a, p_b, n, scale)
    return _interval(estimate - half, estimate + half)


def significant_change(
    estimate_now: pl.Expr, se_now: pl.Expr, estimate_before: pl.Expr, se_before: pl.Expr, confidence: float = 0.95
) -> pl.Expr:
    """Two-sided z test of independent estimates: |now − before| > z·sqrt(se_now² + se_before²).

    Null when any input is null.
    """
    z = z_quantile(_two_sided(confidence))
    se_now, se_before = _float(se_now), _float(se_before)
    spread = (se_now * se_now + se_before * se_before).sqrt()
    return ((_float(estimate_now) - _float(estimate_before)).abs() > z * spread).alias("significant")


def significant_mean_change(
    mean_now: pl.Expr,
    sd_now: pl.Expr,
    n_now: pl.Expr,
    mean_before: pl.Expr,
    sd_before: pl.Expr,
    n_before: pl.Expr,
    confidence: float = 0.95,
) -> pl.Expr:
    """Welch's two-sided t test of a change in a mean; null when either n < 2 or any input is null."""
    level = _two_sided(confidence)

    def test(change: pl.Expr, var_now: pl.Expr, var_before: pl.Expr, n_now: pl.Expr, n_before: pl.Expr) -> pl.Expr:
        total = var_now + var_before
        spread = var_now**2 / (n_now - 1.0) + var_before**2 / (n_before - 1.0)
        # Both variances zero: any difference at all is significant, so let t fall back to z.
        df = pl.when(spread > 0).then(total * total / spread).otherwise(float("inf"))
        return change.abs() > t_quantile_expr(level, df) * total.sqrt()

    return _let(
        test,
        change=_float(mean_now) - _float(mean_before),
        var_now=mean_se(sd_now, n_now) ** 2,
        var_before=mean_se(sd_before, n_before) ** 2,
        n_now=_float(n_now),
        n_before=_float(n_before),
    ).alias("significant")
