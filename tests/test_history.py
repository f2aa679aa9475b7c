"""The history file: every layout, one line for every file it cannot use, concurrent runs, renamed metrics."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl.cli import main
from metricdsl.errors import DataError, RequestError
from metricdsl.files import locked, replace_atomically
from metricdsl.grading import history as history_module
from metricdsl.grading.findings import findings
from metricdsl.grading.history import Drift, metric_drift, read_history, write_history
from metricdsl.spec.definitions import GRAINS

ROOT = Path(__file__).resolve().parent.parent
SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, queue: str, started_at: datetime, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower}
  volume: {expr: count(), better: higher}
rules:
  slower:
    when: asa > prev(asa)
    message: "waits {pct_change(asa)} to {asa}"
"""


def start(grain: str, index: int) -> datetime:
    """The start of the `index`-th period of `grain` from Monday 2026-01-05."""
    if grain in ("day", "week"):
        return datetime(2026, 1, 5, 9) + timedelta(**{f"{grain}s": index})
    if grain == "month":
        return datetime(2026, 1 + index, 5, 9)
    if grain == "quarter":
        return datetime(2026, 1 + 3 * index, 5, 9)
    return datetime(2026 + index, 1, 5, 9)


def calls(grain: str, *rows: tuple[int, float], teams: tuple[str, ...] = ("a", "b")) -> pl.DataFrame:
    """Rows of (period index, wait) for each team, in queue `q`."""
    records = [
        {"team": team, "queue": "q", "started_at": start(grain, index), "wait_s": wait}
        for index, wait in rows
        for team in teams
    ]
    return pl.DataFrame(
        records,
        schema={"team": pl.String, "queue": pl.String, "started_at": pl.Datetime("us"), "wait_s": pl.Float64},
    )


def spec_project(tmp_path: Path, text: str = SPEC, name: str = "spec.yaml") -> metricdsl.Project:
    path = tmp_path / name
    path.write_text(text)
    return metricdsl.load(path)


@pytest.fixture
def project(tmp_path):
    return spec_project(tmp_path)


@pytest.mark.parametrize("by", [(), ("team",), ("team", "queue")], ids=["overall", "team", "team-queue"])
@pytest.mark.parametrize("grain", GRAINS)
def test_every_grain_and_set_of_dimensions_feeds_prev_from_the_history(project, tmp_path, grain, by):
    history = tmp_path / "history.parquet"
    first = project.grade({"calls": calls(grain, (0, 10.0))}, by=by, grain=grain, history=history)
    groups = first.table.height
    assert write_history(history, first) == groups
    second = project.grade({"calls": calls(grain, (1, 20.0))}, by=by, grain=grain, history=history)
    fired = [f for f in findings(project.model, second) if f.name == "slower"]
    assert len(fired) == groups  # every group's rule saw the period before, from the history
    assert write_history(history, second) == 2 * groups


def test_a_history_without_a_grain_is_refused_before_the_data_is_read(project, tmp_path):
    history = tmp_path / "history.parquet"
    with pytest.raises(RequestError, match="a history needs a grain"):
        project.grade({}, metrics=["asa"], history=history)  # no data given: evaluating first would fail otherwise
    graded = project.grade({"calls": calls("week", (0, 1.0))}, metrics=["asa"])
    with pytest.raises(RequestError, match="a history needs a grain"):
        write_history(history, graded)
    assert not history.exists()


def test_a_history_without_a_grain_is_one_line_on_the_command_line(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    calls("week", (0, 1.0)).write_parquet(tmp_path / "calls.parquet")
    history = tmp_path / "history.parquet"
    result = CliRunner().invoke(
        main,
        ["check", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'calls.parquet'}", "--history", str(history)],
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: a history needs a grain: `prev()` compares a period with the one before it (give a grain, or no history)"
    )
    assert not history.exists()


def test_a_row_written_without_a_grain_by_an_earlier_version_is_one_line_not_a_traceback(project, tmp_path):
    history = tmp_path / "history.parquet"
    pl.DataFrame(
        {"__group": ["{}"], "asa": [1.0], "__n_asa": [1], "__se_asa": [None], "__layout": ["None|"]},
        schema_overrides={"__se_asa": pl.Float64},
    ).with_columns(pl.lit(datetime(2026, 1, 1)).alias("__recorded_at")).write_parquet(history)
    with pytest.raises(DataError) as raised:
        project.grade({"calls": calls("week", (0, 1.0))}, grain="week", history=history)
    assert str(raised.value) == (
        f"{history} records no grain overall, not each week overall: give each grain and set of dimensions its own "
        "history file"
    )


def test_another_layout_is_refused_with_one_line(project, tmp_path):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 1.0))}, by=["team"], grain="week"))
    for by, grain, wanted in [
        (["team"], "month", "each month by team"),
        (["team", "queue"], "week", "each week by team, queue"),
    ]:
        with pytest.raises(DataError) as raised:
            read_history(history, tuple(by), grain, project.model.metrics)
        assert str(raised.value) == (
            f"{history} records each week by team, not {wanted}: give each grain and set of dimensions its own history file"
        )
        graded = project.grade({"calls": calls(grain, (0, 1.0))}, by=by, grain=grain)
        with pytest.raises(DataError, match="records each week by team"):
            write_history(history, graded)
    assert read_history(history, ("team",), "week").height == 2  # untouched


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda path: path.write_text("team,wait_s\na,1\n"), "cannot read the history {path}: "),
        (
            lambda path: pl.DataFrame({"team": ["a"]}).write_parquet(path),
            "{path} is not a metricdsl history: it has no `__layout` column",
        ),
        (
            lambda path: pl.DataFrame({"__layout": [1], "__group": ["{}"], "__grain": [date(2026, 1, 5)]}).write_parquet(
                path
            ),
            "{path} is not a metricdsl history: `__layout` holds Int64, not String",
        ),
        (
            lambda path: pl.DataFrame({"__layout": ["week|"], "__group": ["{}"]}).write_parquet(
                path, metadata={"metricdsl.history": "7"}
            ),
            "{path} is a history of format 7, which this version of metricdsl cannot read",
        ),
        (lambda path: path.mkdir(), "the history {path} is a folder"),
    ],
    ids=["csv", "other-parquet", "wrong-type", "newer-format", "folder"],
)
def test_a_file_that_is_not_a_history_is_one_line(project, tmp_path, content, message):
    history = tmp_path / "history.parquet"
    content(history)
    before = sorted(p.name for p in tmp_path.iterdir())
    for attempt in (
        lambda: project.grade({"calls": calls("week", (0, 1.0))}, grain="week", history=history),
        lambda: write_history(history, project.grade({"calls": calls("week", (0, 1.0))}, grain="week")),
    ):
        with pytest.raises(DataError) as raised:
            attempt()
        assert str(raised.value).startswith(message.format(path=history))
        assert "\n" not in str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == before


def test_the_history_of_other_specs_is_refused(project, tmp_path):
    history = tmp_path / "history.parquet"
    other = spec_project(tmp_path, SPEC.replace("asa", "speed").replace("volume", "count_all"), "other.yaml")
    write_history(history, other.grade({"calls": calls("week", (0, 1.0))}, grain="week"))
    with pytest.raises(DataError) as raised:
        project.grade({"calls": calls("week", (1, 1.0))}, grain="week", history=history)
    assert str(raised.value) == (
        f"{history} is the history of other specs: none of its metrics (`speed`, `count_all`) is defined here "
        "(give these specs their own history file)"
    )


def test_an_empty_file_is_a_history_not_begun(project, tmp_path):
    history = tmp_path / "history.parquet"
    history.touch()
    graded = project.grade({"calls": calls("week", (0, 1.0))}, grain="week", history=history)
    assert write_history(history, graded) == 1


def test_a_renamed_metric_is_named_on_both_sides(project, tmp_path):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 10.0))}, grain="week"))
    renamed = spec_project(tmp_path, SPEC.replace("asa", "wait"), "renamed.yaml")
    graded = renamed.grade({"calls": calls("week", (1, 20.0))}, grain="week", history=history)
    assert not [f for f in findings(renamed.model, graded) if f.name == "slower"]  # what the warning is for
    assert metric_drift(history, graded, renamed.model.metrics) == Drift(gone=("asa",), unrecorded=("wait",))
    assert (
        metric_drift(history, project.grade({"calls": calls("week", (1, 20.0))}, grain="week"), project.model.metrics)
        == Drift()
    )
    assert not Drift()
    assert metric_drift(tmp_path / "none.parquet", graded, renamed.model.metrics) == Drift()


def test_check_warns_of_a_renamed_metric_on_stderr(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    history = tmp_path / "history.parquet"
    base = ["--grain", "week", "--history", str(history)]
    calls("week", (0, 10.0)).write_parquet(tmp_path / "first.parquet")
    calls("week", (1, 20.0)).write_parquet(tmp_path / "second.parquet")
    first = CliRunner().invoke(
        main, ["check", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'first.parquet'}", *base]
    )
    assert first.exit_code == 0
    assert "warning" not in first.stderr
    (tmp_path / "spec.yaml").write_text(SPEC.replace("asa", "wait"))
    second = CliRunner().invoke(
        main, ["check", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'second.parquet'}", *base]
    )
    assert second.exit_code == 0
    warnings = [line for line in second.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: history {history}: it records `asa`, which the specs no longer define; it has no values of `wait` (a "
        "metric renamed in the specs keeps its old name in the history, so prev() of the new name finds no earlier "
        "period and rules on it cannot fire)"
    ]


def test_two_runs_at_once_both_keep_their_periods(project, tmp_path, monkeypatch):
    """Each run reads the file slowly: without the lock, both would read it before either writes, and one run's
    period would be lost."""
    history = tmp_path / "history.parquet"
    read = history_module._read

    def slow_read(path: Path) -> pl.DataFrame | None:
        rows = read(path)
        time.sleep(0.3)
        return rows

    monkeypatch.setattr(history_module, "_read", slow_read)
    runs = [project.grade({"calls": calls("week", (week, 10.0))}, grain="week") for week in range(3)]
    threads = [threading.Thread(target=write_history, args=(history, graded)) for graded in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(pl.read_parquet(history)["__grain"].to_list()) == [date(2026, 1, 5) + timedelta(weeks=w) for w in range(3)]


RACER = """
import sys, time
from metricdsl.grading import history
read = history._read
def slow_read(path):
    rows = read(path)
    time.sleep(1.0)
    return rows
history._read = slow_read
from metricdsl.cli import main
main(sys.argv[1:])
"""


def test_two_processes_at_once_both_keep_their_periods(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    history = tmp_path / "history.parquet"
    racers = []
    for week in range(2):
        data = tmp_path / f"week{week}.parquet"
        calls("week", (week, 10.0)).write_parquet(data)
        command = [sys.executable, "-c", RACER, "check", str(tmp_path / "spec.yaml"), "--data", f"calls={data}"]
        racers.append(
            subprocess.Popen(
                [*command, "--grain", "week", "--history", str(history)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outcomes = [(racer.communicate(timeout=120)[1], racer.returncode) for racer in racers]
    assert [code for _, code in outcomes] == [0, 0], outcomes
    assert sorted(pl.read_parquet(history)["__grain"].to_list()) == [date(2026, 1, 5), date(2026, 1, 12)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_history_that_cannot_be_written_is_one_line(project, tmp_path):
    full = tmp_path / "full.parquet"  # through a link, so that a mistake would replace the link, never the device
    full.symlink_to("/dev/full")
    with pytest.raises(metricdsl.OutputError) as raised:
        write_history(full, project.grade({"calls": calls("week", (1, 10.0))}, grain="week"))
    assert str(raised.value) == f"cannot write {full}: No space left on device"
    assert full.is_symlink()


def test_a_rewritten_history_keeps_its_mode_and_leaves_no_temporary_file(project, tmp_path):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 10.0))}, grain="week"))
    history.chmod(0o640)
    write_history(history, project.grade({"calls": calls("week", (1, 10.0))}, grain="week"))
    assert history.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.parquet", "history.parquet.lock", "spec.yaml"]


RUNNER = """
import sys
from pathlib import Path
import polars as pl
import metricdsl
from metricdsl.grading.history import read_history, write_history
spec, data, history, rounds = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
project = metricdsl.load(spec)
frame = pl.read_parquet(data)
for _ in range(rounds):
    write_history(history, project.grade({"calls": frame}, grain="week", by=["team"], history=history))
    for _ in range(5):
        read_history(history, ("team",), "week", project.model.metrics)
"""


@pytest.mark.slow
def test_runs_reading_and_writing_at_once_keep_every_period_and_never_fail(tmp_path):
    """Runs read a history of some thousand rows while others replace it: a reader that took no lock and opened the
    file more than once read parts of two files (`the page header reported the wrong page size`), and its run failed
    with its period unrecorded."""
    (tmp_path / "spec.yaml").write_text(SPEC)
    history = tmp_path / "history.parquet"
    runs = []
    for week in range(8):
        data = tmp_path / f"week{week}.parquet"
        calls("week", (week, 10.0 + week), teams=tuple(f"t{i}" for i in range(2000))).write_parquet(data)
        command = [sys.executable, "-c", RUNNER, str(tmp_path / "spec.yaml"), str(data), str(history), "10"]
        runs.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    outcomes = [(run.communicate(timeout=300)[1], run.returncode) for run in runs]
    assert [code for _, code in outcomes] == [0] * 8, outcomes
    assert sorted(pl.read_parquet(history)["__grain"].unique().to_list()) == [
        date(2026, 1, 5) + timedelta(weeks=w) for w in range(8)
    ]


def test_a_run_reads_the_history_after_a_run_writing_it_lets_go(project, tmp_path):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 10.0))}, grain="week"))
    read: list[pl.DataFrame | None] = []
    with locked(history):
        reader = threading.Thread(target=lambda: read.append(read_history(history, (), "week")))
        reader.start()
        reader.join(0.5)
        assert reader.is_alive()  # waits for the lock
        assert not read
        two_weeks = pl.read_parquet(history).pipe(
            lambda rows: rows.vstack(rows.with_columns(pl.col("__grain") + timedelta(weeks=1)))
        )
        replace_atomically(
            history, lambda temporary: two_weeks.write_parquet(temporary, metadata={"metricdsl.history": "1"})
        )
    reader.join(10)
    assert [rows.height for rows in read if rows is not None] == [2]  # the file as the writer left it


def test_a_history_replaced_while_it_is_checked_is_one_line_not_a_mix_of_two_files(project, tmp_path, monkeypatch):
    """A program that takes no lock may still rename a file over the history: the check and the reading must see one
    file, and a file replaced in between is named, never read in parts."""
    history, other = tmp_path / "history.parquet", tmp_path / "other.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 10.0))}, grain="week"))
    write_history(other, project.grade({"calls": calls("week", (0, 10.0), (1, 20.0), (2, 30.0))}, grain="week"))
    check = history_module.parquet_problem

    def replaced_while_checked(path: Path) -> str | None:
        other.replace(path)
        return check(path)

    monkeypatch.setattr(history_module, "parquet_problem", replaced_while_checked)
    with pytest.raises(DataError) as raised:
        read_history(history, (), "week")
    assert str(raised.value) == f"cannot read the history {history}: it was replaced while it was read; run again"


@pytest.mark.parametrize(
    ("column", "change", "recorded"),
    [
        ("asa", pl.col("asa").cast(pl.String), "String"),
        ("__n_asa", pl.col("__n_asa").cast(pl.String), "String"),
        ("asa", pl.concat_list(pl.col("__n_asa")).alias("asa"), "List(Int64)"),
    ],
    ids=["value-as-text", "count-as-text", "value-as-list"],
)
def test_a_history_column_of_the_wrong_type_is_one_line(project, tmp_path, column, change, recorded):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 10.0))}, grain="week"))
    rows = pl.read_parquet(history).with_columns(change)
    rows.write_parquet(history, metadata={"metricdsl.history": "1"})
    computed = "Int64" if column.startswith("__n_") else "Float64"
    message = (
        f"{history} is not a history these specs can use: its column `{column}` holds {recorded}, where this run "
        f"computes {computed} (give these specs their own history file)"
    )
    later = calls("week", (1, 20.0))
    for attempt in (
        lambda: project.grade({"calls": later}, grain="week", history=history),
        lambda: write_history(history, project.grade({"calls": later}, grain="week")),
    ):
        with pytest.raises(DataError) as raised:
            attempt()
        assert str(raised.value) == message
    data = tmp_path / "later.parquet"
    later.write_parquet(data)
    run = CliRunner().invoke(
        main, ["check", str(tmp_path / "spec.yaml"), "--data", f"calls={data}", "--grain", "week", "--history", str(history)]
    )
    assert run.exit_code == 2
    assert run.stderr == f"error: {message}\n"
    assert pl.read_parquet(history).equals(rows)  # untouched


def test_a_history_of_integer_values_goes_with_a_run_of_floats(project, tmp_path):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls("week", (0, 10.0))}, grain="week"))
    rows = pl.read_parquet(history).with_columns(pl.col("asa").cast(pl.Int32), pl.col("__n_asa").cast(pl.Float64))
    rows.write_parquet(history, metadata={"metricdsl.history": "1"})
    graded = project.grade({"calls": calls("week", (1, 20.0))}, grain="week", history=history)
    assert [f.name for f in findings(project.model, graded)] == ["slower"]
    assert write_history(history, graded) == 2
