"""``escalation replay`` through the real entry point: its outcomes equal the Monte Carlo row."""

from __future__ import annotations

import json

import pandas as pd


def test_replay_tells_the_story_of_a_monte_carlo_row(escalation, tmp_path):
    run = escalation(
        "run", "scenarios/combined.yaml", "-n", "400", "--seed", "31",
        "-o", str(tmp_path / "run"), "--quiet", "--no-charts", "--workers", "1",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    table = pd.read_parquet(tmp_path / "run" / "outcomes.parquet")
    k = int(table.loc[table.armed_incident & table.staged_incident, "replicate"].iloc[0])

    as_json = escalation(
        "replay", "scenarios/combined.yaml", "--seed", "31", "--replicate", str(k), "--json"
    )
    assert as_json.returncode == 0, as_json.stderr
    replayed = json.loads(as_json.stdout)
    row = table.set_index("replicate").loc[k]
    for column, value in row.items():
        if column == "error":
            continue
        got = replayed[column]
        if pd.isna(value):
            assert got is None, column
        elif isinstance(value, float):
            assert got == value, column  # bit-identical, not approximately equal
        else:
            assert got == value, column

    story = escalation("replay", "scenarios/combined.yaml", "--seed", "31", "--replicate", str(k))
    assert story.returncode == 0, story.stderr
    text = story.stdout
    assert f"Replay of replicate {k} of 'combined'" in text
    assert "Stage an incident" in text and "weighed:" in text
    assert "armed_incident = True" in text and "Outcomes:" in text


def test_replay_bad_input_is_one_line_and_exit_2(escalation):
    for args in (
        ["replay", "scenarios/combined.yaml", "--replicate", "-3"],
        ["replay", "scenarios/combined.yaml", "--seed", "-1"],
        ["replay", "scenarios/missing.yaml"],
        ["replay", "scenarios/combined.yaml", "--set", "actors.china.resolv=0.5"],
    ):
        r = escalation(*args)
        assert r.returncode == 2, args
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
