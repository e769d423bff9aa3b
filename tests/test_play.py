"""``escalation play``: a terminal game through a pseudo-terminal, its log and its replay."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pexpect
import pytest

from sim.model import EscalationModel
from sim.play.game import Game, load_game, new_game
from tests.conftest import REPO, escalation_command

SCENARIO = "scenarios/staged_provocation.yaml"
PROMPT = "poland> "


def _spawn(*args: str) -> pexpect.spawn:
    cmd = escalation_command()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "110", "LINES": "50"}
    return pexpect.spawn(
        cmd[0], [*cmd[1:], *args], cwd=str(REPO), env=env, encoding="utf-8", timeout=60
    )


def test_play_as_poland_in_a_terminal_then_the_log_replays(tmp_path, escalation):
    log = tmp_path / "game.json"
    child = _spawn("play", SCENARIO, "--as", "poland", "--seed", "11", "--log", str(log))
    child.expect("you play Poland")
    shadow = new_game(SCENARIO, ["poland"], seed=11)  # the same game, played alongside
    chosen = []
    for day in (1, 2, 3):
        child.expect(rf"Day {day} \(.*\) - Poland's seat")
        child.expect("Poland's menu with the model's advice")
        child.expect(PROMPT)
        # Take the second move on the menu: a person's choice, not the model's draw.
        pick = str(shadow.menu("poland").query("available").move.iloc[1])
        chosen.append(pick)
        child.sendline("2")
        label = shadow.move_label("poland", pick)
        child.expect(rf"Day {day} \(.*\) played: Poland chose {re.escape(label)}\.")
        shadow.play({"poland": pick})
    child.expect(PROMPT)
    child.sendline("whatif 300")
    child.expect(r"What happens from day 3: 300 worlds, every\s+actor\s+played\s+by\s+the\s+model")
    child.expect(r"armed_incident\s*│\s*([\d.]+)\s*│\s*([\d.]+)-([\d.]+)")
    est, lo, hi = (float(x) for x in child.match.groups())
    assert 0 <= lo <= est <= hi <= 1
    child.expect(PROMPT)
    child.sendline("save")
    child.expect(f"game log saved to {re.escape(str(log))}")
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    data = json.loads(log.read_text())
    assert data["format"] == "escalation-game/2"
    assert data["seed"] == 11 and data["seats"] == ["poland"]
    assert [d["moves"]["poland"] for d in data["days"]] == chosen
    assert data["final"]["day"] == 3 and data["final"]["last_moves"]["poland"] == chosen[-1]
    assert "numpy" in data["versions"] and data["code_version"]

    replay = escalation("play", "--replay", str(log))
    assert replay.returncode == 0, replay.stderr
    assert "final state identical to the log" in replay.stdout
    # The replayed world is the same world, bit for bit.
    again = load_game(log)
    assert json.loads(json.dumps(again.final_state())) == data["final"]

    story = escalation("replay", "--log", str(log))
    assert story.returncode == 0, story.stderr
    assert "Game replay of replicate 0 of 'staged_provocation'" in story.stdout
    assert "Seats played by people: Poland" in story.stdout


def test_a_tampered_or_broken_log_is_one_line_and_exit_2(tmp_path, escalation):
    game = new_game(SCENARIO, ["poland"], seed=5)
    game.play({"poland": "statement"})
    good = tmp_path / "good.json"
    game.save(good)
    data = json.loads(good.read_text())

    cases = {
        "notjson.json": "{not json",
        "format.json": json.dumps({**data, "format": "other"}),
        "move.json": json.dumps({**data, "days": [{"day": 1, "moves": {"poland": "nuke"}}]}),
        "seat.json": json.dumps({**data, "seats": ["atlantis"]}),
        "hash.json": json.dumps({**data, "scenario_sha256": "0" * 64}),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    # Two through the installed command (a separate process, as a user runs it) ...
    for name in ("notjson.json", "move.json"):
        r = escalation("play", "--replay", str(tmp_path / name))
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert name in r.stderr
    # ... the rest through the same entry function in this process (a second each saved).
    bad = [["play", "--replay", str(tmp_path / name)] for name in cases]
    bad += [
        ["play", SCENARIO, "--as", "atlantis"],
        ["play", SCENARIO],
        ["play", SCENARIO, "--as", "poland", "--seed", "-1"],
        ["play", SCENARIO, "--as", "poland", "--seed", "x"],
        ["play", SCENARIO, "--as", "poland,poland"],
        ["play", "--replay", "game.json", "--as", "poland"],
        ["play", "--replay", str(tmp_path / "missing.json")],
    ]
    for args in bad:
        code, err = _main(*args)
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        if args[1] == "--replay" and len(args) == 3:
            assert Path(args[2]).name in err


def _main(*args: str) -> tuple[int, str]:
    """``sim.cli.main`` in this process, from the repository root: (exit status, stderr)."""
    import contextlib
    import io

    from sim.cli import main

    err = io.StringIO()
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(list(args))
    finally:
        os.chdir(cwd)
    return code, err.getvalue()


def test_a_seat_replaces_only_its_own_draw():
    """Day 1 decisions all look at day 0: a seat's choice leaves the other actors' draws alone."""
    free = EscalationModel(SCENARIO, seed=9, replicate_ids=[0])
    free.step()
    game = new_game(SCENARIO, ["poland"], seed=9)
    p = game.index("poland")
    menu = game.menu("poland")
    own = free.tables.entry_name[int(free.state.last[0, p])]
    other = next(m for m in menu[menu.available].move if m != own)
    game.play({"poland": other})
    got = game.model.state.last[0]
    want = free.state.last[0]
    assert game.model.tables.entry_name[int(got[p])] == other
    assert np.array_equal(np.delete(got, p), np.delete(want, p))


def test_hot_seat_undo_and_whatif_branch():
    game = Game(new_game(SCENARIO, ["poland"], seed=2).scenario, ("poland", "nato"), seed=2)
    for _ in range(3):
        game.play({s: str(game.menu(s).query("available").move.iloc[0]) for s in game.seats})
    before = game.final_state()
    game.play({s: str(game.menu(s).query("available").move.iloc[-1]) for s in game.seats})
    game.undo()
    assert game.final_state() == before and game.day == 3
    summary = game.whatif(200).set_index("outcome")
    for name in ("armed_incident", "article4", "blockade"):
        row = summary.loc[name]
        assert row.n == 200 and row.ci_low <= row.estimate <= row.ci_high
    # The branch starts from today's state: no world in it has fewer days than today.
    branch = game.branch(50).run()
    assert (branch.state.days >= 3).all()
    menu = game.menu("poland")
    nato = str(game.menu("nato").query("available").move.iloc[0])
    with pytest.raises(Exception, match="not available"):
        game.play({"poland": str(menu[~menu.available].move.iloc[0]), "nato": nato})


def test_whatif_runs_through_the_runner_and_equals_the_branch_on_any_executor():
    from sim.play.runs import branch_name
    from sim.runner.chunks import resolve_model
    from sim.runner.results import summarize_ok

    game = new_game(SCENARIO, ["poland"], seed=13)
    # The seat's measure decisions travel with the branch too (the blockade is in force there).
    game.play({"poland": "statement"}, {"poland": {"start": ["rail_blockade@belarus"]}})
    for _ in range(4):
        game.play({"poland": str(game.menu("poland").query("available").move.iloc[-1])})
    here = game.whatif(600).set_index("outcome")
    pool = game.whatif(600, workers=2, chunk_size=200).set_index("outcome")
    direct = summarize_ok(game.branch(600).run().outcomes()).set_index("outcome")
    for name in ("armed_incident", "article4", "blockade", "mean:max_rung"):
        assert (
            here.loc[name, "estimate"] == pool.loc[name, "estimate"] == direct.loc[name, "estimate"]
        )
    # The branch is named by data only: the same game's choices give the same function name,
    # and the name rebuilds the same world in a fresh lookup.
    name = branch_name(game.replicate, game.seats, game.moves, None, game.switches)
    assert name == branch_name(game.replicate, game.seats, list(game.moves), {}, game.switches)
    fn = resolve_model(name)
    out = fn(game.scenario, game.seed, np.arange(50))
    assert (out.outcomes["days"] >= game.day).all()


def test_hot_seat_in_a_terminal(tmp_path):
    log = tmp_path / "hot.json"
    child = _spawn("play", SCENARIO, "--as", "poland,nato", "--seed", "4", "--log", str(log))
    for seat, prompt in (("Poland", "poland> "), ("NATO", "nato> ")):
        child.expect(rf"Day 1 \(.*\) - {seat}'s seat")
        child.expect(prompt)
        child.sendline("measure model")
        child.expect("the model's own review today:")
        child.expect(prompt)
        child.sendline("model")
    child.expect(r"Day 1 \(.*\) played: Poland chose .*; NATO chose ")
    child.expect(r"Day 2 \(.*\) - Poland's seat")
    child.expect("poland> ")
    child.sendline("undo")
    child.expect(r"undone: back to the end of day 0")
    child.expect("poland> ")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    data = json.loads(log.read_text())
    assert data["seats"] == ["poland", "nato"] and data["days"] == []


RAIL = "rail_blockade@belarus"


def test_poland_starts_the_rail_blockade_in_a_terminal_and_holds_it(tmp_path, escalation):
    """A seat's measure is in force the next day and stays while its daily moves change."""
    log = tmp_path / "blockade.json"
    child = _spawn("play", SCENARIO, "--as", "poland", "--seed", "11", "--log", str(log))
    child.expect("you play Poland")
    child.expect(r"Poland's lasting measures")
    child.expect(rf"\({re.escape(RAIL)}\)\s*│\s*no\s*│\s*can start")
    child.expect(PROMPT)
    child.sendline("help")
    child.expect("measure start <m>")
    child.expect(PROMPT)
    child.sendline(f"measure start {RAIL}")
    child.expect(rf"today Poland will start: .*\({re.escape(RAIL)}\)")
    child.expect(PROMPT)
    child.sendline("measure end article4")
    child.expect("'article4' is not in force for poland")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect(rf"Day 1 \(.*\) played: Poland chose .* and starts {re.escape(RAIL)}\.")
    child.expect(r"! Poland starts: Block rail transit \(Belarus\)")
    moves = []
    for day, pick in ((2, "2"), (3, "3"), (4, "1"), (5, "2")):
        child.expect(rf"Day {day} \(.*\) - Poland's seat")
        # In force, and the model's own review would end it some day: the seat holds it.
        child.expect(rf"\({re.escape(RAIL)}\)\s*│\s*yes\s*│\s*can end\s*│\s*\S+\s*│\s*([\d.]+)")
        assert float(child.match.group(1)) > 0
        child.expect(PROMPT)
        child.sendline(pick)
        child.expect(rf"Day {day} \(.*\) played: Poland chose ([^\r\n]*)\.")
        moves.append(child.match.group(1))
    assert len(set(moves)) > 1  # the daily moves changed
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    data = json.loads(log.read_text())
    assert data["format"] == "escalation-game/2"
    assert data["days"][0]["measures"]["poland"] == {"start": [RAIL], "end": []}
    assert all(d["measures"]["poland"] == {"start": [], "end": []} for d in data["days"][1:])
    assert "Poland: Block rail transit (Belarus)" in data["final"]["in_force"]
    replay = escalation("play", "--replay", str(log))
    assert replay.returncode == 0, replay.stderr
    assert "final state identical to the log" in replay.stdout
    game = load_game(log)
    assert json.loads(json.dumps(game.final_state())) == data["final"]
    rail = game.model.tables.slot_name.index(RAIL)
    states = game.model.trace.states
    assert not states[0].on[0, rail]
    assert all(states[d].on[0, rail] for d in range(1, game.day + 1))


def test_measure_decisions_in_a_log_are_checked(tmp_path):
    game = new_game(SCENARIO, ["poland"], seed=5)
    game.play({"poland": "statement"}, {"poland": {"start": [RAIL]}})
    game.play({"poland": "statement"}, {"poland": {"end": [RAIL]}})
    good = tmp_path / "good.json"
    game.save(good)
    data = json.loads(good.read_text())
    assert load_game(good).final_state() == game.final_state()
    rail = game.model.tables.slot_name.index(RAIL)
    assert game.model.trace.states[1].on[0, rail] and not game.model.state.on[0, rail]

    def variant(name, first):
        days = [dict(data["days"][0], measures={"poland": first}), *data["days"][1:]]
        (tmp_path / name).write_text(json.dumps({**data, "days": days}))
        return str(tmp_path / name)

    cases = {
        variant("unknown.json", {"start": ["nuke@belarus"]}): "no lasting measure 'nuke@belarus'",
        variant("twice.json", {"start": [RAIL], "end": [RAIL]}): "twice",
        variant("notlist.json", {"start": RAIL}): "expected a list of measure names",
        variant("end.json", {"end": [RAIL]}): "is not in force",
    }
    for path, message in cases.items():
        code, err = _main("play", "--replay", path)
        assert code == 2, (path, err)
        assert len(err.strip().splitlines()) == 1 and message in err, err
        assert "days[0]" in err and Path(path).name in err


def test_a_first_format_log_replays_with_the_models_review(tmp_path):
    """Games from before seats decided measures: the model's own review decided them."""
    plain = EscalationModel(SCENARIO, seed=7, replicate_ids=[0])
    game = Game(
        new_game(SCENARIO, ["poland"], seed=7).scenario, ("poland",), 7, seat_measures=False
    )
    for _ in range(20):
        plain.step()
        game.play(
            {"poland": game.model.tables.entry_name[int(plain.state.last[0, game.index("poland")])]}
        )
    assert np.array_equal(game.model.state.on, plain.state.on)
    assert game.log()["format"] == "escalation-game/1"
    again = load_game(game.save(tmp_path / "old.json"))
    assert not again.seat_measures and again.final_state() == game.final_state()


def test_a_seat_that_always_takes_the_models_move_and_review_plays_the_models_world():
    from sim.play.game import choice_for

    plain = EscalationModel(SCENARIO, seed=3, replicate_ids=[0]).run()
    game = new_game(SCENARIO, ["poland", "nato"], seed=3)
    while not game.over:
        game.play(
            {s: choice_for(lambda d: d.own(), game, s) for s in game.seats},
            {s: game.model_switches(s) for s in game.seats},
        )
    assert np.array_equal(game.model.state.on, plain.state.on)
    assert np.array_equal(game.model.state.rung, plain.state.rung)
    assert game.model.outcomes().equals(plain.outcomes())
    # Not vacuous: the model's review did switch some measure of theirs in these 60 days.
    assert any(switched for day in game.switches for sw in day.values() for switched in sw.values())


def test_a_branch_keeps_the_played_worlds_own_restraint():
    from sim.scenario.parameters import WORLD_RESTRAINT

    game = Game(new_game(SCENARIO, ["poland"], seed=2).scenario, ("poland",), seed=2)
    game.play({"poland": str(game.menu("poland").query("available").move.iloc[0])})
    own = float(game.model.params[WORLD_RESTRAINT][0])
    branch = game.branch_model(np.arange(40))
    # The calibrated scenarios give each world its own restraint (restraint_spread > 0): the
    # branch continues this world, so every branch world has this world's value.
    assert np.all(branch.params[WORLD_RESTRAINT] == own)
    redrawn = game.branch_model(np.arange(40), {"dynamics.restraint": own})
    assert np.unique(redrawn.params[WORLD_RESTRAINT]).size > 1
