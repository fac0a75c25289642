"""``crisishub plan`` profile, staffing, teams and simulate subcommands."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from crisishub.planning._output import Progress, emit
from crisishub.planning.cli import main

GROUND_TRUTH = [
    "staffing", "--calls", "100", "--interval", "30", "--aht", "3",
    "--target-seconds", "20", "--service-level", "0.8",
]  # fmt: skip


def run_json(capsys, argv: list[str]) -> dict | list:
    assert main(argv + ["--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def run_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


# _output


def test_emit_json_converts_numpy():
    import numpy as np

    stream = io.StringIO()
    emit({"a": np.float64(1.5), "b": np.arange(2), "c": float("inf")}, "json", stream)
    assert json.loads(stream.getvalue()) == {"a": 1.5, "b": [0, 1], "c": None}


def test_emit_table_rows():
    stream = io.StringIO()
    emit([{"x": 1, "y": 0.5}, {"x": 22}], "table", stream)
    lines = stream.getvalue().splitlines()
    assert lines[0].split() == ["x", "y"]
    assert lines[3].split() == ["22"]


def test_emit_rejects_format():
    with pytest.raises(ValueError, match="invalid format 'xml'"):
        emit({}, "xml", io.StringIO())


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_terminal():
    stream = TerminalStream()
    with Progress(2, "work", stream=stream) as progress:
        progress.advance()
        progress.advance()
    assert "work: 2/2 (100%)" in stream.getvalue()


def test_progress_quiet_when_piped():
    stream = io.StringIO()
    with Progress(2, "work", stream=stream) as progress:
        progress.advance(2)
    assert stream.getvalue() == ""


# staffing


def test_staffing_ground_truth(capsys):
    result = run_json(capsys, GROUND_TRUTH + ["--shrinkage", "0.3"])
    assert result["agents"] == 14
    assert result["positions"] == 20
    assert round(result["service_level"], 6) == 0.888350
    assert round(result["wait_probability"], 6) == 0.174132
    assert round(result["asa_seconds"], 3) == 7.836


def test_staffing_erlang_a(capsys):
    result = run_json(capsys, GROUND_TRUTH + ["--patience", "5"])
    assert result["agents"] == 13
    assert "abandon_probability" in result
    assert result["service_level"] >= 0.8


def test_staffing_without_patience_has_no_abandonment(capsys):
    result = run_json(capsys, GROUND_TRUTH)
    assert "abandon_probability" not in result


def test_staffing_intervals_file(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    lines = ["interval_start,calls"] + [f"2024-05-06T{h:02d}:00,{h * 10}" for h in range(8)]
    path.write_text("\n".join(lines) + "\n")
    rows = run_json(capsys, ["staffing", "--intervals", str(path), "--aht", "3"])
    assert len(rows) == 8
    assert rows[0]["agents"] == 0
    assert rows[1]["interval_start"] == "2024-05-06T01:00"
    assert rows[7]["agents"] > rows[1]["agents"]


def test_staffing_intervals_aht_column(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text("interval_start,calls,aht\na,100,3\nb,100,6\n")
    rows = run_json(capsys, ["staffing", "--intervals", str(path)])
    assert rows[0]["agents"] == 14
    assert rows[1]["agents"] > 14


def test_staffing_missing_column(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text("interval_start,volume\na,10\n")
    error = run_error(capsys, ["staffing", "--intervals", str(path), "--aht", "3"])
    assert "column 'calls' not found" in error
    assert "--calls-column" in error


def test_staffing_negative_calls(capsys):
    error = run_error(capsys, ["staffing", "--calls", "-5", "--aht", "3"])
    assert "invalid --calls -5: use 0 to 1,000,000" in error


def test_staffing_bad_service_level(capsys):
    error = run_error(capsys, GROUND_TRUTH[:-1] + ["1.5"])
    assert "invalid service level 1.5" in error


def test_staffing_missing_aht(capsys):
    error = run_error(capsys, ["staffing", "--calls", "10"])
    assert "missing --aht" in error


def test_staffing_table_format(capsys):
    assert main(GROUND_TRUTH + ["--format", "table"]) == 0
    assert "agents" in capsys.readouterr().out


def test_staffing_help_documents_columns(capsys):
    with pytest.raises(SystemExit):
        main(["staffing", "--help"])
    out = capsys.readouterr().out
    assert "interval_start" in out
    assert "calls" in out


def test_staffing_subprocess_exit_code(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "crisishub.cli", "plan", "staffing", "--calls", "-1",
         "--aht", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "invalid --calls -1" in completed.stderr


# profile


def test_profile_default_is_borrowed(capsys):
    result = run_json(capsys, ["profile"])
    assert "Toronto" in result["source"]
    assert result["note"].startswith("Borrowed profile")
    assert len(result["hours"]) == 168


def test_profile_weekly_scaling(capsys):
    result = run_json(capsys, ["profile", "--weekly-calls", "700", "--mobile-share", "0.1"])
    assert result["weekly_calls"] == pytest.approx(700.0)
    assert result["weekly_mobile_responses"] == pytest.approx(70.0)


def test_profile_annual_scaling(capsys):
    result = run_json(capsys, ["profile", "--annual-calls", "36525"])
    assert result["weekly_calls"] == pytest.approx(700.0)


def test_profile_plots_written(capsys, tmp_path):
    heatmap = tmp_path / "heat.png"
    curve = tmp_path / "curve.svg"
    run_json(capsys, ["profile", "--heatmap", str(heatmap), "--curve", str(curve)])
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in curve.read_text()


def test_profile_bad_plot_suffix(capsys, tmp_path):
    error = run_error(capsys, ["profile", "--heatmap", str(tmp_path / "h.jpg")])
    assert "use a .png or .svg name" in error


def test_profile_from_timestamps(capsys, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("received\n2024-05-06T08:10:00\n2024-05-06T08:50:00\n2024-05-12T23:00:00\n")
    result = run_json(capsys, ["profile", "--timestamps", str(path), "--column", "received"])
    monday_8 = result["hours"][8]
    assert monday_8["calls"] == pytest.approx(2.0)
    assert result["hours"][167]["calls"] == pytest.approx(1.0)
    assert result["note"].startswith("Only 3 event(s)")


TORONTO_FORMAT = (
    '"objectid","event_id","event_date","event_dow","event_hour","event_type"\n'
    '1,101,"2014-01-01","Wednesday",9,"Person in Crisis"\n'
    '2,102,"2014-01-01","Wednesday",NA,"Suicide-related"\n'
    '3,103,"2014-01-06","Monday",NA,"Overdose"\n'
    '4,104,"2014-01-07","Tuesday",23,"Person in Crisis"\n'
)


@pytest.mark.parametrize(
    ("stamp", "zone", "day", "hour"),
    [
        ("2026-01-05T08:15:00Z", None, "Monday", 0),
        ("2026-01-05T08:15:00-08:00", None, "Monday", 8),
        ("2026-01-05T08:15:00", None, "Monday", 8),
        ("2026-01-05T03:15:00Z", None, "Sunday", 19),
        ("2026-07-06T08:15:00Z", None, "Monday", 1),
        ("2026-01-05T08:15:00Z", "America/New_York", "Monday", 3),
    ],
)
def test_profile_converts_offsets(capsys, tmp_path, monkeypatch, stamp, zone, day, hour):
    if zone is None:
        monkeypatch.delenv("CRISISHUB_TIME_ZONE", raising=False)
    else:
        monkeypatch.setenv("CRISISHUB_TIME_ZONE", zone)
    path = tmp_path / "calls.csv"
    path.write_text(f"timestamp\n{stamp}\n")
    result = run_json(capsys, ["profile", "--timestamps", str(path)])
    assert result["peak_day"] == day
    assert result["peak_hour"] == hour


def test_profile_bad_time_zone(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CRISISHUB_TIME_ZONE", "Mars/Olympus")
    path = tmp_path / "calls.csv"
    path.write_text("timestamp\n2026-01-05T08:15:00Z\n")
    error = run_error(capsys, ["profile", "--timestamps", str(path)])
    assert "invalid CRISISHUB_TIME_ZONE 'Mars/Olympus'" in error


def test_profile_enough_timestamps_no_warning(capsys, tmp_path):
    path = tmp_path / "calls.csv"
    stamps = [f"2026-01-{5 + d:02d}T{h:02d}:10:00" for d in range(7) for h in range(24)]
    path.write_text("timestamp\n" + "\n".join(stamps * 2) + "\n")
    result = run_json(capsys, ["profile", "--timestamps", str(path)])
    assert "Only" not in result["note"]


def test_profile_date_hour_na_is_midnight(capsys, tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text(TORONTO_FORMAT)
    result = run_json(
        capsys, ["profile", "--timestamps", str(path), "--hour-column", "event_hour"]
    )
    calls = {(row["day_of_week"], row["hour"]): row["calls"] for row in result["hours"]}
    weeks = 7 / 7.0  # 2014-01-01 to 2014-01-07 is one week
    assert calls[(2, 0)] == pytest.approx(1.0 / weeks)
    assert calls[(0, 0)] == pytest.approx(1.0 / weeks)
    assert calls[(2, 9)] == pytest.approx(1.0)
    assert calls[(1, 23)] == pytest.approx(1.0)
    assert result["weekly_calls"] == pytest.approx(4.0)
    assert result["note"] == "2 rows with hour NA counted as midnight."


def test_profile_date_hour_rejects_bad_hour(capsys, tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text(TORONTO_FORMAT.replace(",23,", ",24,"))
    message = run_error(
        capsys, ["profile", "--timestamps", str(path), "--hour-column", "event_hour"]
    )
    assert "line 5: invalid hour '24'" in message
    assert "NA for midnight" in message


@pytest.mark.django_db
def test_profile_from_hub_database(capsys, make_contact, at):
    # BASE_TIME is Monday 2026-01-05 18:00 UTC, 10:00 in Sacramento.
    make_contact(at=at(0))
    make_contact(at=at(90))
    result = run_json(capsys, ["profile", "--hub"])
    calls = {(row["day_of_week"], row["hour"]): row["calls"] for row in result["hours"]}
    assert calls[(0, 10)] == pytest.approx(7.0)  # one call in a 1-day span
    assert calls[(0, 11)] == pytest.approx(7.0)
    assert result["source"] == "this hub's call records"
    assert result["note"].startswith("Only 2 event(s)")


@pytest.mark.django_db
def test_profile_hub_without_records(capsys):
    message = run_error(capsys, ["profile", "--hub"])
    assert "no call records" in message


def test_borrowed_profile_counts_midnight():
    """Hour 0 holds the Toronto rows whose hour is NA, so it is not empty."""
    from crisishub.planning import profile as demand

    borrowed = demand.toronto_profile()
    assert borrowed.counts[:, 0].sum() == 1137
    assert np.all(borrowed.counts[:, 0] > 0)
    assert "Borrowed profile" in borrowed.note


def test_profile_missing_timestamp_column(capsys, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("when\n2024-05-06T08:10:00\n")
    error = run_error(capsys, ["profile", "--timestamps", str(path)])
    assert "column 'timestamp' not found" in error


def test_profile_table_names_source(capsys):
    assert main(["profile", "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("source: Toronto")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--calls", "1e12", "--aht", "3"], "invalid --calls 1e+12: use 0 to 1,000,000"),
        (["--calls", "10", "--aht", "1e9"], "invalid AHT 1e+09: use minutes above 0 and up to 1440"),
        (["--calls", "10", "--aht", "0"], "invalid AHT 0: use minutes above 0"),
        (["--calls", "10", "--aht", "3", "--interval", "1e-9"], "invalid --interval 1e-09: use 1 to 1440"),
        (["--calls", "10", "--aht", "3", "--patience", "1e9"], "invalid --patience 1e+09"),
        (["--calls", "10", "--aht", "3", "--target-seconds", "1e9"], "invalid --target-seconds 1e+09"),
        (["--calls", "10", "--aht", "3", "--agents", "0"], "invalid --agents 0: use 1 to 100,000"),
        (["--calls", "1000000", "--aht", "60"], "offered load 2,000,000 erlangs is above 10,000"),
    ],
)
def test_staffing_rejects_out_of_range(capsys, options, expected):
    error = run_error(capsys, ["staffing", *options])
    assert expected in error


def test_staffing_largest_load_is_fast(capsys):
    started = time.monotonic()
    argv = ["staffing", "--calls", "1000000", "--interval", "1440", "--aht", "14.4"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run_json(capsys, argv + ["--patience", "1440"])
    assert result["load_erlangs"] == pytest.approx(10_000)
    assert time.monotonic() - started < 10


def test_staffing_agents_erlang_a_ground_truth(capsys):
    result = run_json(capsys, GROUND_TRUTH + ["--patience", "5", "--agents", "14"])
    assert result["agents"] == 14
    assert round(result["abandon_probability"], 6) == 0.013984
    assert round(result["service_level"], 6) == 0.916792
    assert result["meets_target"] is True


def test_staffing_agents_erlang_c(capsys):
    result = run_json(capsys, GROUND_TRUTH + ["--agents", "13"])
    assert result["agents"] == 13
    assert result["service_level"] < 0.8
    assert result["meets_target"] is False


def test_staffing_help_defines_service_level(capsys):
    with pytest.raises(SystemExit):
        main(["staffing", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--agents" in out
    assert "share of all offered calls that are answered within --target-seconds" in out
    assert "calls that abandon count as not answered within the target" in out


def test_staffing_aht_row_named(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text("interval_start,calls,aht\na,100,3\nb,100,-3\n")
    error = run_error(capsys, ["staffing", "--intervals", str(path)])
    assert "invalid AHT -3 in data row 2" in error
    assert "[" not in error


def test_staffing_blank_aht_uses_option(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text("interval_start,calls,aht\na,100,\nb,100,6\n")
    rows = run_json(capsys, ["staffing", "--intervals", str(path), "--aht", "3"])
    assert rows[0]["agents"] == 14
    assert rows[1]["agents"] > 14


def test_staffing_blank_aht_without_option(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text("interval_start,calls,aht\na,100,\n")
    error = run_error(capsys, ["staffing", "--intervals", str(path)])
    assert "blank aht in data row 1" in error
    assert "--aht MINUTES" in error


def test_staffing_header_only_file(capsys, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text("interval_start,calls\n")
    error = run_error(capsys, ["staffing", "--intervals", str(path), "--aht", "3"])
    assert "has a header but no data rows" in error


def test_staffing_long_patience_no_warning(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = run_json(capsys, GROUND_TRUTH + ["--patience", "1440"])
    assert result["abandon_probability"] < 0.001


# teams


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--weekly-requests", "1e9"], "invalid --weekly-requests 1e+09: use 0 to 100,000"),
        (["--population", "1e12"], "invalid --population 1e+12: use 0 to 100,000,000"),
        (["--travel", "1e9"], "invalid --travel 1e+09: use 0 to 1440 minutes"),
        (["--min-teams", "99999999"], "invalid --min-teams 99999999: use 0 to 10,000"),
    ],
)
def test_teams_rejects_out_of_range(capsys, options, expected):
    error = run_error(capsys, ["teams", *options])
    assert expected in error


def test_teams_few_timestamps_warn(capsys, tmp_path):
    path = tmp_path / "requests.csv"
    path.write_text("timestamp\n2026-01-05T08:15:00-08:00\n")
    result = run_json(capsys, ["teams", "--timestamps", str(path)])
    assert "Only 1 event(s)" in result["note"]


def test_teams_default_week(capsys):
    result = run_json(capsys, ["teams"])
    assert len(result["hours"]) == 168
    assert result["weekly_requests"] == pytest.approx(1_585_055 * 230e-5 * 7 / 365.25)
    waits = [row["wait_probability"] for row in result["hours"]]
    assert max(waits) <= 0.1


def test_teams_more_requests_need_more_teams(capsys):
    low = run_json(capsys, ["teams", "--weekly-requests", "50"])["max_teams"]
    high = run_json(capsys, ["teams", "--weekly-requests", "500"])["max_teams"]
    assert high > low


def test_teams_bad_share(capsys):
    error = run_error(capsys, ["teams", "--transport-share", "2"])
    assert "invalid transport share 2.0" in error


# simulate


SIMULATE = ["simulate", "--days", "2", "--replications", "2", "--seed", "4"]


def test_simulate_json(capsys):
    result = run_json(capsys, SIMULATE)
    assert result["replications"] == 2
    assert result["note"].startswith("Borrowed profile")
    assert 0.0 <= result["service_level"]["mean"] <= 1.0
    assert result["response_p90_minutes"]["mean"] > 0
    assert len(result["team_busy_fraction"]) == 7


def test_simulate_seed_repeats(capsys):
    first = run_json(capsys, SIMULATE)
    second = run_json(capsys, SIMULATE)
    assert first == second


def test_simulate_quiet_stderr_when_piped(capsys):
    assert main(SIMULATE + ["--format", "json"]) == 0
    assert capsys.readouterr().err == ""


def test_simulate_table(capsys):
    assert main(SIMULATE + ["--format", "table", "--counselors", "3"]) == 0
    out = capsys.readouterr().out
    assert "team_7_busy_fraction" in out


def test_simulate_stations_file(capsys, tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text("lat,lon\n38.58,-121.49\n38.68,-121.27\n")
    result = run_json(capsys, SIMULATE + ["--stations", str(path), "--teams", "2"])
    assert len(result["team_busy_fraction"]) == 2


def test_simulate_bad_horizon(capsys):
    error = run_error(capsys, ["simulate", "--days", "400"])
    assert "invalid horizon of 400.0 days" in error


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--seed", "-1"], "invalid --seed -1: use 0 to 4294967295"),
        (["--replications", "1"], "invalid --replications 1: use 2 to 1,000"),
        (["--teams", "100000"], "invalid --teams 100000: use 1 to 500"),
    ],
)
def test_simulate_rejects_out_of_range(capsys, options, expected):
    error = run_error(capsys, ["simulate", "--days", "1", *options])
    assert expected in error


def test_simulate_bad_station_names_line(capsys, tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text("lat,lon\n38.58,-121.49\nabc,-121.27\n")
    error = run_error(capsys, SIMULATE + ["--stations", str(path)])
    assert f"invalid lat 'abc' in {path} line 3" in error
    assert "-90 to 90" in error


def test_simulate_note_names_real_option(capsys):
    result = run_json(capsys, SIMULATE)
    assert "plan simulate --timestamps FILE" in result["note"]


def test_simulate_from_timestamps(capsys, tmp_path):
    path = tmp_path / "calls.csv"
    stamps = [f"2026-01-{5 + d:02d}T{h:02d}:10:00-08:00" for d in range(7) for h in range(24)]
    path.write_text("timestamp\n" + "\n".join(stamps * 2) + "\n")
    result = run_json(capsys, SIMULATE + ["--timestamps", str(path)])
    assert result["source"] == str(path)
    assert result["note"] == ""
    assert result["replications"] == 2


def test_plan_output_closed_early(tmp_path):
    command = [sys.executable, "-m", "crisishub.cli", "plan", *SIMULATE, "--days", "1"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=120)
    assert process.returncode == 1
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("--weekly-calls", "invalid --weekly-calls 1e+308: use 0 to 10,000,000"),
        ("--annual-calls", "invalid --annual-calls 1e+308: use 0 to 521,785,714"),
    ],
)
def test_profile_rejects_huge_volume(capsys, option, expected):
    assert expected in run_error(capsys, ["profile", option, "1e308"])


def test_staffing_load_error_advice(capsys):
    # load = calls x aht / interval, so only a longer interval lowers it.
    error = run_error(capsys, ["staffing", "--calls", "1000000", "--aht", "60"])
    assert "lower --calls or --aht, or use a longer --interval" in error
    assert "shorter" not in error


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1565029.0, "1,565,029"),
        (2848268129.7145104, "2,848,268,129.71"),
        (0.004410857317461778, "0.00441086"),
        (12.5, "12.5"),
        (-3.0, "-3"),
        (1e20, "1e+20"),
    ],
)
def test_emit_table_keeps_large_numbers(value, expected):
    stream = io.StringIO()
    emit({"covered": value}, "table", stream)
    assert stream.getvalue().splitlines()[2].split() == ["covered", expected]


def test_placement_table_covered_population(capsys):
    code = main(
        ["placement", "--model", "mclp", "--p", "2", "--radius", "20",
         "--candidates", "facilities", "--format", "table"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "1,585,055" in out
    assert "e+06" not in out
