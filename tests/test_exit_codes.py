"""Exit codes that CI can act on: 1 is a verdict (a missed target, a failed test, an invalid spec), 2 a run that
could not work (usage, specs, data, outputs), 3 a bug, 130 Ctrl-C, 143 SIGTERM; a reader that leaves early is no error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT, SPECS
from metricdsl.cli import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    main,
)
from metricdsl.project import Project
from metricdsl.stopping import handled, stop, stopped_by

SPEC = """\
sources:
  calls:
    path: calls.csv
    time: started_at
    columns: {started_at: datetime, team: str, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower}
targets:
  asa: {warn: "> 30s", fail: "> 60s"}
dashboards:
  board: {metrics: [asa], by: [team], grain: week}
tests:
  - name: mean wait
    given: {calls: [{wait_s: 10}, {wait_s: 20}]}
    expect: {asa: 15}
"""
CALLS = "started_at,team,wait_s\n2026-01-05T10:00:00,north,10\n2026-01-05T11:00:00,south,20\n"
SLOW_WAITS = "started_at,team,wait_s\n2026-01-05T10:00:00,north,10\n2026-01-05T11:00:00,south,90\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "calls.csv").write_text(CALLS)
    return tmp_path


def invoke(*args: str | Path, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, [str(arg) for arg in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output or (env or {}).get("METRICDSL_DEBUG")
    return result


def run_process(*args: str | Path, **options) -> subprocess.CompletedProcess[str]:
    """`python -m metricdsl ARGS` of this checkout, as a shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "metricdsl", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
        check=False,
        **options,
    )


def test_the_codes_are_distinct_and_usage_errors_keep_clicks_code():
    assert (EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED) == (0, 1, 2, 3, 130, 143)
    assert list(EXIT_CODES) == [0, 1, 2, 3, 130, 143]
    assert click.UsageError("").exit_code == EXIT_ERROR


def test_help_lists_every_exit_code():
    help_text = invoke("--help").stdout
    section = help_text.split("Exit codes:\n")[1]
    assert [int(line.split()[0]) for line in section.splitlines() if line[:5].strip()] == list(EXIT_CODES)
    assert "130  interrupted (Ctrl-C)" in section


def test_ok_is_0(folder):
    for args in (
        ["validate", folder],
        ["eval", folder / "spec.yaml"],
        ["check", folder / "spec.yaml"],
        ["test", folder / "spec.yaml"],
        ["fmt", "--check", folder / "spec.yaml"],
        ["graph", folder / "spec.yaml"],
        ["explain", "asa", folder / "spec.yaml"],
        ["explain", "MD201"],
        ["schema"],
    ):
        assert invoke(*args).exit_code == EXIT_OK, args


def test_findings_at_fail_on_are_1(folder):
    (folder / "calls.csv").write_text(SLOW_WAITS)  # south waits 90 s: fails the target
    assert invoke("check", folder / "spec.yaml").exit_code == EXIT_FAILED
    (folder / "calls.csv").write_text(SLOW_WAITS.replace(",90", ",45"))  # a warning only
    assert invoke("check", folder / "spec.yaml").exit_code == EXIT_OK
    assert invoke("check", folder / "spec.yaml", "--fail-on", "warn").exit_code == EXIT_FAILED


def test_failed_spec_tests_invalid_specs_and_unformatted_files_are_1(folder):
    (folder / "spec.yaml").write_text(SPEC.replace("expect: {asa: 15}", "expect: {asa: 16}"))
    assert invoke("test", folder / "spec.yaml").exit_code == EXIT_FAILED
    (folder / "spec.yaml").write_text(SPEC.replace("mean(wait_s)", "mean(wait_z)"))
    validated = invoke("validate", folder / "spec.yaml")
    assert validated.exit_code == EXIT_FAILED
    assert "error[MD201]" in validated.stdout
    (folder / "spec.yaml").write_text(SPEC.replace("mean(wait_s)", "mean( wait_s )"))
    assert invoke("fmt", "--check", folder / "spec.yaml").exit_code == EXIT_FAILED


@pytest.mark.parametrize(
    "args",
    [["eval"], ["check"], ["test"], ["explain", "asa"], ["graph"]],
    ids=["eval", "check", "test", "explain", "graph"],
)
def test_specs_with_errors_are_2_in_the_commands_that_need_valid_specs(folder, args):
    (folder / "spec.yaml").write_text(SPEC.replace("mean(wait_s)", "mean(wait_z)"))
    result = invoke(*args, folder / "spec.yaml")
    assert result.exit_code == EXIT_ERROR
    assert "error[MD201]: unknown column `wait_z`" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["eval", "check"])
def test_bad_data_is_2(folder, command):
    (folder / "calls.csv").write_text(CALLS.replace("2026-01-05T10:00:00,", "05.01.2026 10:00,"))
    result = invoke(command, folder / "spec.yaml")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.startswith("error: ")
    assert "line 2, column `started_at`: a value is not an ISO 8601 datetime" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_output_that_cannot_be_written_is_2_even_with_findings(folder):
    (folder / "calls.csv").write_text(SLOW_WAITS)
    (folder / "taken").mkdir()
    result = invoke("check", folder / "spec.yaml", "--output", folder / "taken")
    assert result.exit_code == EXIT_ERROR  # not 1: CI must not read a broken run as a missed target
    assert result.stderr == f"error: cannot write {folder / 'taken'}: it is a folder\n"
    assert "south" in result.stdout  # the findings are still printed


@pytest.mark.parametrize("args", [["validate"], ["fmt"], ["fmt", "--check"]], ids=["validate", "fmt", "fmt-check"])
@pytest.mark.parametrize("where", ["empty", "nowhere"])
def test_a_path_without_spec_files_is_a_usage_error_in_one_line(folder, args, where):
    (folder / "empty").mkdir()
    result = invoke(*args, folder / where)
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == f"error: no spec files (*.yaml, *.yml) found in {folder / where}\n"
    assert result.stdout == ""
    assert invoke(*args, folder / "spec.yaml", folder / where).exit_code == EXIT_ERROR


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--nope"], "No such option '--nope'"),
        (["eval", "--metrics", "asx"], "unknown metric `asx`; did you mean `asa`?"),
        (["graph", "--impact", "nothing"], "`nothing` names nothing in the graph"),
        (["explain", "nothing"], "unknown metric or code `nothing`"),
        (["nope"], "No such command 'nope'"),
    ],
)
def test_usage_errors_are_2(folder, args, message):
    command, *rest = args
    result = invoke(command, *(rest if command == "nope" else [*rest, folder / "spec.yaml"]))
    assert result.exit_code == EXIT_ERROR
    assert message in result.stderr


def test_graph_impact_of_a_dimension_lists_the_rules_that_read_it():
    result = invoke("graph", SPECS, "--impact", "team")
    assert result.exit_code == EXIT_OK
    assert result.stdout.splitlines()[:4] == [
        "column:interactions.team affects 5:",
        "  derived:orders.team",  # the team an order is credited to
        "  dimension:team",
        "  rule:cost_over_loyalty",
    ]
    only_dimension = invoke("graph", SPECS, "--impact", "dimension:team")
    assert only_dimension.exit_code == EXIT_OK
    assert "rule:small_survey_sample" in only_dimension.stdout


def test_a_bug_is_3_in_one_line_and_its_traceback_only_when_debugging(folder, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(Project, "run", broken)
    result = invoke("eval", folder / "spec.yaml")
    assert result.exit_code == EXIT_INTERNAL
    assert result.stderr == (
        "internal error: ZeroDivisionError: division by zero; please report it (set METRICDSL_DEBUG=1 for the traceback)\n"
    )
    debugged = invoke("eval", folder / "spec.yaml", env={"METRICDSL_DEBUG": "1"})
    assert debugged.exit_code == EXIT_INTERNAL
    assert debugged.stderr.startswith("Traceback (most recent call last):")
    assert "in broken" in debugged.stderr
    assert debugged.stderr.endswith(
        "internal error: ZeroDivisionError: division by zero; please report it (set METRICDSL_DEBUG=1 for the traceback)\n"
    )


def test_ctrl_c_is_130_with_one_line(folder, monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Project, "run", interrupted)
    result = invoke("check", folder / "spec.yaml")
    assert result.exit_code == EXIT_INTERRUPTED
    assert (result.stdout, result.stderr) == ("", "interrupted\n")


@pytest.mark.parametrize(
    ("number", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_an_error_that_a_signal_caused_is_the_signal_and_not_a_bug(folder, monkeypatch, number, code, said):
    """A signal that lands while Polars' native code calls back into Python can come out as an error of Polars' own
    (`TypeError: '<unprintable str object>' is not a Polars data type`), not as the KeyboardInterrupt the handler
    raised: the run still ends as the signal's, in one line, not as an internal error."""

    def broken_by_the_signal(*_args, **_kwargs):
        try:
            os.kill(os.getpid(), number)
            signal.pthread_sigmask(signal.SIG_BLOCK, [])  # a call, so that the handler runs here
        except BaseException as raised:
            raise TypeError("'<unprintable str object>' is not a Polars data type") from raised
        raise AssertionError("the handler did not run")

    monkeypatch.setattr(Project, "run", broken_by_the_signal)
    result = invoke("check", folder / "spec.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", f"{said}\n")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers before are back


@pytest.mark.parametrize(
    ("method", "command", "output"),
    [("run", "check", "o.json"), ("run", "eval", "o.csv"), ("report_view", "report", "o.html")],
)
def test_a_signal_whose_exception_was_swallowed_still_stops_the_run(folder, monkeypatch, method, command, output):
    """Polars may catch the KeyboardInterrupt a signal raised inside its callback and go on: the run that returns
    after it was stopped all the same, and ends as the signal's, without its output."""
    work = getattr(Project, method)

    def swallowed(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            signal.pthread_sigmask(signal.SIG_BLOCK, [])  # a call, so that the handler runs here
        except KeyboardInterrupt:
            return work(*args, **kwargs)  # as Polars goes on with its query
        raise AssertionError("the handler did not run")

    monkeypatch.setattr(Project, method, swallowed)
    result = invoke(command, folder / "spec.yaml", "--output", folder / output)
    assert (result.exit_code, result.stdout, result.stderr) == (EXIT_INTERRUPTED, "", "interrupted\n")
    assert not (folder / output).exists()


def test_once_the_stop_is_told_a_further_signal_is_only_noted():
    """A second Ctrl-C while the stopped run winds down (removes its temporary files, joins Polars' threads) must
    not break the way out with a second KeyboardInterrupt."""
    with handled():
        with pytest.raises(SystemExit) as ended:
            stop(EXIT_INTERRUPTED)
        assert ended.value.code == EXIT_INTERRUPTED
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                os.kill(os.getpid(), number)
                signal.pthread_sigmask(signal.SIG_BLOCK, [])  # a call, so that the handler runs here
            except BaseException as raised:
                pytest.fail(f"signal {number} after the stop raised {raised!r}")
        assert stopped_by() == EXIT_INTERRUPTED  # noted nonetheless
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert stopped_by() is None  # the outermost `handled()` forgets on the way out


# Runs the command line with every Polars collection (`collect` and `collect_all`) preceded by one that never
# ends in practice (10^12 rows, in constant memory), announced on standard error, so that SIGINT arrives while
# Polars is at work.
ENDLESS_COLLECT = """\
import sys
import polars as pl
from metricdsl.cli import main

collect = pl.LazyFrame.collect

def endless_first(self, *args, **kwargs):
    print("collecting", file=sys.stderr, flush=True)
    rows = pl.LazyFrame({"a": range(1_000_000)}).join(pl.LazyFrame({"b": range(1_000_000)}), how="cross")
    collect(rows.select(pl.col("a").sum()), *args, **kwargs)
    return collect(self, *args, **kwargs)

collect_all = pl.collect_all

def endless_first_of_all(frames, *args, **kwargs):
    endless_first(pl.LazyFrame())
    return collect_all(frames, *args, **kwargs)

pl.LazyFrame.collect = endless_first
pl.collect_all = endless_first_of_all
main()
"""


def interrupted_after(
    args: list[str], line: str, python_path: str, *, pauses: tuple[float, ...] = ()
) -> tuple[int, str, str]:
    """Run `python ARGS`, send SIGINT once it writes `line` on standard error, then once more after each of `pauses`
    (seconds) while it runs; its exit code, the rest of its standard output and of its standard error."""
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": python_path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == line
        process.send_signal(signal.SIGINT)
        for pause in pauses:
            time.sleep(pause)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, out, err


def test_ctrl_c_inside_a_polars_collection_is_130_with_one_line_and_no_traceback(folder):
    args = ["-c", ENDLESS_COLLECT, "check", str(folder / "spec.yaml"), "--output", str(folder / "o.json")]
    assert interrupted_after(args, "collecting\n", str(ROOT)) == (EXIT_INTERRUPTED, "", "interrupted\n")
    assert not (folder / "o.json").exists()


@pytest.mark.parametrize("pause", [0.001, 0.01, 0.05])
def test_a_second_ctrl_c_while_the_run_winds_down_changes_nothing(folder, pause):
    """Ctrl-C pressed twice, as impatient users do: still exit 130, one line, no traceback, no output file. A race
    by nature: it catches a broken way out often, not on every run;
    `test_once_the_stop_is_told_a_further_signal_is_only_noted` catches it every time."""
    as_installed = ENDLESS_COLLECT.replace("from metricdsl.cli import main", "from metricdsl.__main__ import run")
    as_installed = as_installed.replace("\nmain()\n", "\nrun()\n")  # the console script's entry point
    args = ["-c", as_installed, "check", str(folder / "spec.yaml"), "--output", str(folder / "o.json")]
    told = interrupted_after(args, "collecting\n", str(ROOT), pauses=(pause,))
    assert told == (EXIT_INTERRUPTED, "", "interrupted\n")
    assert not (folder / "o.json").exists()


def test_a_reader_that_leaves_after_one_line_costs_no_file_and_no_message(tmp_path):
    """`metricdsl check specs … | head -1`: the files are written, nothing is said, the exit code is the verdict."""
    output = tmp_path / "o.json"
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as reader:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "metricdsl",
                "check",
                str(SPECS),
                "--dashboard",
                "service_2_0",
                "--format",
                "json",
                "--output",
                str(output),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(write_end)
        assert reader.readline() == "{\n"
    _, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_FAILED  # the example quarter misses targets, as without the pipe
    assert err == ""
    assert output.read_text().startswith('{\n  "schema": "metricdsl-findings/1"')
    assert output.stat().st_size > 3 * 65536  # more than a pipe and the reader's buffer hold: the pipe broke


def test_a_reader_that_is_gone_before_the_first_line_changes_nothing():
    """`metricdsl eval specs | true`."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run_process("eval", SPECS, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.returncode == EXIT_OK
    assert result.stderr == ""


# Makes importing Polars slow, as on a cold start: announced on standard error, so that SIGINT arrives while the
# command loads, before click runs.
SLOW_POLARS = """\
import importlib.abc
import sys
import time


class SlowPolars(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "polars":
            print("importing polars", file=sys.stderr, flush=True)
            time.sleep(60)
        return None


sys.meta_path.insert(0, SlowPolars())
"""
CONSOLE_SCRIPT = "import sys; from metricdsl.__main__ import run; sys.exit(run())"  # as pip writes `metricdsl`


@pytest.mark.parametrize("command", [["-m", "metricdsl"], ["-c", CONSOLE_SCRIPT]], ids=["python -m", "console script"])
def test_ctrl_c_while_the_command_loads_is_130_with_one_line(folder, tmp_path, command):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SLOW_POLARS)
    path = os.pathsep.join([str(tmp_path / "site"), str(ROOT)])
    args = [*command, "eval", str(folder / "spec.yaml")]
    assert interrupted_after(args, "importing polars\n", path) == (EXIT_INTERRUPTED, "", "interrupted\n")


def test_the_command_catches_ctrl_c_before_it_loads_polars():
    """The console script imports its entry point first: that import must load nothing slow for Ctrl-C to hit."""
    assert 'metricdsl = "metricdsl.__main__:run"' in (ROOT / "pyproject.toml").read_text()
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, metricdsl.__main__; print(sorted({'click', 'polars', 'yaml'} & set(sys.modules)))",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (loaded.returncode, loaded.stdout) == (0, "[]\n"), loaded.stderr


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["check", "--help"], ["--version"]])
def test_help_to_a_reader_that_is_gone_ends_quietly(args):
    """`metricdsl --help | head -1`, `metricdsl eval --help | true`: no traceback, no message, the help's exit code."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run_process(*args, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (EXIT_OK, "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["--version"]])
def test_help_to_a_full_disk_is_one_line(args):
    """`metricdsl --help > /dev/full`: the output that cannot be written, in one line, exit 2; no traceback."""
    with open("/dev/full", "w") as full:
        result = run_process(*args, stdout=full, stderr=subprocess.PIPE)
    assert (result.returncode, result.stderr) == (
        EXIT_ERROR,
        "error: cannot write standard output: No space left on device\n",
    )
