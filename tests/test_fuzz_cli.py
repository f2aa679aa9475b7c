"""Never a traceback, never a partial output: the command line on mutated spec files, data and histories.

Each case writes a small project (a spec, a data file and perhaps a history) with a few random byte
mutations, runs one command in-process and checks that it ended with an exit status the command line
documents, and that every output file it names is either absent, untouched or whole. The default run
tries a few hundred cases; `pytest -m slow tests/test_fuzz_cli.py` tries 50,000.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricdsl.cli import main

SPEC = """\
sources:
  calls:
    path: calls.csv
    time: started_at
    entities: {customer: customer_id}
    columns:
      customer_id: int
      started_at: datetime
      team: str
      answered: bool
      wait_s: {type: float, unit: s}
      score: {type: int, range: [0, 10]}
    derive:
      repeat_7d: followed_by(calls, 7d)
metrics:
  asa: {expr: mean(wait_s where answered), unit: s, better: lower}
  answered_rate: {expr: share(answered), better: higher}
  fcr: {expr: share(not repeat_7d where answered), better: higher}
  nps: {expr: 100 * (share(score >= 9) - share(score <= 6)), better: higher}
targets:
  asa: {warn: "> 30s", fail: "> 60s"}
rules:
  slower:
    when: asa > prev(asa)
    message: "{team}: waits {pct_change(asa)} to {asa}"
dashboards:
  board: {metrics: [asa, answered_rate, fcr, nps], by: [team], grain: week}
"""

CSV = """\
customer_id,started_at,team,answered,wait_s,score
1,2026-01-05T09:00:00,north,true,12.5,9
2,2026-01-05T10:00:00,south,false,40,3
1,2026-01-08T11:00:00,north,true,8,10
3,2026-01-12T09:30:00,south,true,55,7
2,2026-01-13T12:00:00,north,false,,
4,2026-01-14T15:00:00,south,true,21,9
"""

# Exit statuses the command line documents: ok, findings or failed checks, usage or input errors.
DOCUMENTED = {0, 1, 2}
SLOW_EXAMPLES = {"spec": 16_000, "csv": 14_000, "ndjson": 8_000, "parquet": 6_000, "history": 6_000}


def frame() -> pl.DataFrame:
    return pl.read_csv(io.StringIO(CSV), try_parse_dates=True)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with one to four random byte edits: replace, insert, delete, repeat or cut a run."""
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["replace", "insert", "delete", "repeat", "cut"]))
        piece = draw(
            st.binary(min_size=1, max_size=4) | st.sampled_from([b",", b"\n", b'"', b":", b"-", b"\x00", b"9" * 30])
        )
        if edit == "replace":
            data = data[:position] + piece + data[position + len(piece) :]
        elif edit == "insert":
            data = data[:position] + piece + data[position:]
        elif edit == "delete":
            data = data[:position] + data[position + draw(st.integers(1, 16)) :]
        elif edit == "repeat":
            data = data[:position] + data[position : position + 40] * 2 + data[position + 40 :]
        else:
            data = data[:position]
    return data


def run(folder: Path, *args: str) -> int:
    """Run the command in `folder`; fail on anything but a documented exit status."""
    result = CliRunner().invoke(main, [*args, str(folder / "spec.yaml")], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in DOCUMENTED, result.output
    assert "Traceback" not in result.output
    return result.exit_code


def project(tmp_path: Path, spec: bytes = SPEC.encode(), data: bytes = CSV.encode()) -> Path:
    folder = Path(tmp_path)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    (folder / "spec.yaml").write_bytes(spec)
    (folder / "calls.csv").write_bytes(data)
    return folder


def assert_whole_json(path: Path) -> None:
    """An output file is absent or a whole JSON document, never a part of one."""
    if path.exists():
        json.loads(path.read_text(encoding="utf-8"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


def check_spec(tmp_path: Path, spec: bytes) -> None:
    folder = project(tmp_path, spec=spec)
    run(folder, "validate")
    run(folder, "check", "--output", str(folder / "report.json"))
    assert_whole_json(folder / "report.json")


def check_csv(tmp_path: Path, data: bytes) -> None:
    folder = project(tmp_path, data=data)
    run(folder, "eval", "--output", str(folder / "table.json"))
    assert_whole_json(folder / "table.json")


def check_ndjson(tmp_path: Path, data: bytes) -> None:
    folder = project(tmp_path)
    (folder / "calls.ndjson").write_bytes(data)
    run(folder, "eval", "--data", f"calls={folder / 'calls.ndjson'}", "--output", str(folder / "table.json"))
    assert_whole_json(folder / "table.json")


def check_parquet(tmp_path: Path, data: bytes) -> None:
    folder = project(tmp_path)
    (folder / "calls.parquet").write_bytes(data)
    run(folder, "eval", "--data", f"calls={folder / 'calls.parquet'}", "--output", str(folder / "table.json"))
    assert_whole_json(folder / "table.json")


def check_history(tmp_path: Path, data: bytes) -> None:
    folder = project(tmp_path)
    history = folder / "history.parquet"
    history.write_bytes(data)
    run(folder, "check", "--history", str(history))
    after = history.read_bytes()
    if after != data:  # replaced: then whole, readable and holding this run
        assert pl.read_parquet(history).height > 0


def ndjson_bytes() -> bytes:
    return frame().write_ndjson().encode()


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    frame().write_parquet(buffer)
    return buffer.getvalue()


def history_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = project(tmp_path_factory.mktemp("history"))
    run(folder, "check", "--history", str(folder / "history.parquet"))
    return (folder / "history.parquet").read_bytes()


CASES = {
    "spec": (SPEC.encode(), check_spec),
    "csv": (CSV.encode(), check_csv),
    "ndjson": (ndjson_bytes(), check_ndjson),
    "parquet": (parquet_bytes(), check_parquet),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_mutated_inputs_end_cleanly(tmp_path: Path, kind: str) -> None:
    original, check_case = CASES[kind]

    @fuzz_settings(60)
    @given(mutated(original))
    def case(data: bytes) -> None:
        check_case(tmp_path, data)

    check_case(tmp_path, original)  # the unmutated project works
    case()


def test_mutated_histories_end_cleanly(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    original = history_bytes(tmp_path_factory)

    @fuzz_settings(40)
    @given(mutated(original))
    def case(data: bytes) -> None:
        check_history(tmp_path, data)

    case()


@pytest.mark.slow
@pytest.mark.parametrize("kind", [*CASES, "history"])
def test_mutated_inputs_end_cleanly_long_run(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, kind: str) -> None:
    if kind == "history":
        original, check_case = history_bytes(tmp_path_factory), check_history
    else:
        original, check_case = CASES[kind]

    @fuzz_settings(SLOW_EXAMPLES[kind])
    @given(mutated(original))
    def case(data: bytes) -> None:
        check_case(tmp_path, data)

    case()


def test_a_parquet_file_that_reads_otherwise_the_second_time_ends_cleanly(tmp_path: Path) -> None:
    """A mutated file whose invalid values the metrics' read counts but a second read does not find."""
    check_parquet(tmp_path, (Path(__file__).parent / "cases" / "parquet_reads_otherwise_twice.parquet").read_bytes())
