"""The explorer: ``escalation explore`` served on a free port, driven in headless Chromium.

Playwright drives Debian's ``chromium`` (``.ci/run`` installs it); the page's browser files come
from the npm registry through ``python -m sim.explore.assets`` (the fixture installs what is
missing, once per environment).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.explore.model import ExplorerModel, Settings, controls, monte_carlo, save_scenario
from tests.conftest import REPO, escalation_command

SCENARIO = "scenarios/staged_provocation.yaml"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory):
    """A copy of the shipped scenarios, so that "save as scenario" writes beside a copy."""
    if os.environ.get("EXPLORER_SCREENSHOT"):  # the README's picture shows the real folder
        return Path("scenarios")
    folder = tmp_path_factory.mktemp("explore") / "scenarios"
    shutil.copytree(REPO / "scenarios", folder)
    return folder


@pytest.fixture(scope="module")
def explorer(scenario_dir):
    """The explorer's address, served by the real command in a subprocess."""
    from sim.explore import assets

    if assets.missing():
        assets.install()
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            *escalation_command(),
            "explore",
            str(scenario_dir / Path(SCENARIO).name),
            "--port",
            str(port),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(explorer):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (apt install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1500, "height": 1100})
        pg.set_default_timeout(60_000)
        pg.goto(explorer)
        pg.locator(".mc-button").wait_for()
        yield pg
        browser.close()


def _estimates(pg, run: str) -> dict[str, float]:
    bars = pg.locator(f'rect[data-run="{run}"]')
    return {
        bars.nth(i).get_attribute("data-outcome"): float(bars.nth(i).get_attribute("data-estimate"))
        for i in range(bars.count())
    }


def test_step_the_world_and_the_day_advances(page):
    day = page.locator(".world-day")
    start = int(day.get_attribute("data-day"))
    page.get_by_role("button", name="Step").click()
    page.wait_for_selector(f'.world-day[data-day="{start + 1}"]')
    page.get_by_role("button", name="Step").click()
    page.wait_for_selector(f'.world-day[data-day="{start + 2}"]')
    assert f"Day {start + 2} of" in day.inner_text()
    assert page.locator(".world-story").inner_text().strip()
    # Play runs days on its own until paused.
    page.get_by_role("button", name="▶").click()
    page.wait_for_function(
        f"() => +document.querySelector('.world-day').dataset.day >= {start + 5}"
    )
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="▶").wait_for()
    page.wait_for_timeout(800)  # a step already under way when pausing may still land
    paused = int(day.get_attribute("data-day"))
    page.wait_for_timeout(1000)
    assert int(day.get_attribute("data-day")) == paused
    # Reset builds the world again from day 0.
    page.get_by_role("button", name="Reset").click()
    page.wait_for_selector('.world-day[data-day="0"]')


def test_move_a_slider_press_monte_carlo_and_the_bars_change(page):
    page.locator(".mc-button").click()
    page.wait_for_selector('rect[data-run="b"]', timeout=60_000)
    before_a, before_b = _estimates(page, "a"), _estimates(page, "b")
    assert before_a == before_b  # nothing moved: both sides are the same scenario, same seed
    assert "armed_incident" in before_b
    # The bars are labelled for a reader, in percentages.
    bars_text = page.locator(".mc-result").inner_text()
    assert "armed_incident" not in bars_text and "%" in bars_text

    sliders = page.locator(".explore-params [role=slider]")
    assert sliders.count() == len(controls(Settings(REPO / SCENARIO).base()))
    # Push sliders to their maximum, three at a time, until the bars move (not every
    # parameter moves the headline outcomes on its own); at most twelve.
    moved = 0
    after_a, after_b = before_a, before_b
    while after_b == before_b and moved < 12:
        for i in range(moved, moved + 3):
            sliders.nth(i).focus()
            page.keyboard.press("End")
            page.get_by_text("(set)").nth(i).wait_for()
        moved += 3
        page.locator(".mc-button").click()
        page.wait_for_function(
            "n => (document.querySelector('.mc-info')?.innerText.match(/=/g) || []).length >= n",
            arg=moved,
            timeout=60_000,
        )
        after_a, after_b = _estimates(page, "a"), _estimates(page, "b")
        assert after_a == before_a  # the unchanged scenario is unchanged
    assert after_b != before_b  # the bars of the current settings moved
    info = page.locator(".mc-info").inner_text()
    seconds = float(info.split("Back in ")[1].split(" s")[0])
    assert seconds > 0
    if os.environ.get("EXPLORER_SCREENSHOT"):
        # For the README: also weaken the evidence of a staging, which China weighs.
        paths = [c.path for c in controls(Settings(REPO / SCENARIO).base())]
        if "incidents.staged_evidence_quality" in paths:
            sliders.nth(paths.index("incidents.staged_evidence_quality")).focus()
            page.keyboard.press("End")
            page.get_by_text("(set)").nth(moved).wait_for()
            page.locator(".mc-button").click()
            page.wait_for_function(
                "n => (document.querySelector('.mc-info')?.innerText.match(/=/g) || []).length"
                " >= n",
                arg=moved + 1,
            )
        page.get_by_role("button", name="Step").click()
        page.wait_for_selector('.world-day[data-day="1"]')
        for _ in range(5):
            page.get_by_role("button", name="Step").click()
        page.wait_for_timeout(1500)
        page.evaluate(
            "document.querySelectorAll('*').forEach(e => { if (e.scrollTop > 0) e.scrollTop = 0; })"
        )
        page.wait_for_timeout(300)
        page.screenshot(path=os.environ["EXPLORER_SCREENSHOT"], full_page=False)


def test_a_persona_in_a_seat_plays_the_world_and_the_monte_carlo(page):
    names = Settings(REPO / SCENARIO).base().actor_names
    page.locator(".explore-seats .v-select").nth(names.index("poland")).click()
    page.get_by_role("option", name="hawk", exact=True).click()
    page.wait_for_selector('.world-day[data-day="0"]')
    page.locator(".mc-button").click()
    page.wait_for_function(
        "() => document.querySelector('.mc-info')?.innerText.includes('poland=hawk')",
        timeout=60_000,
    )
    a, b = _estimates(page, "a"), _estimates(page, "b")
    assert a != b  # one rung above the model's own draw every day changes the outcomes


def test_save_as_scenario_and_pick_another_in_the_page(page, scenario_dir):
    target = scenario_dir / "staged_provocation_explored.yaml"
    page.get_by_role("button", name="Save as scenario").click()
    page.get_by_text("saved ").wait_for()
    assert "extends: staged_provocation.yaml" in target.read_text()
    from sim.scenario.loader import load_scenario

    assert load_scenario(target).name == "staged_provocation_explored"
    page.get_by_role("button", name="Save as scenario").click()
    page.get_by_text("file exists").wait_for()

    page.locator(".v-select").first.click()
    page.get_by_role("option", name="baseline.yaml", exact=True).click()
    page.get_by_text("One world of 'baseline'").wait_for()
    page.wait_for_selector('.world-day[data-day="0"]')


def test_monte_carlo_is_the_runner_compare(tmp_path):
    """The explorer's numbers are sim.api.compare's: the same function with the same seed."""
    from sim.api import compare

    settings = Settings(REPO / SCENARIO)
    path = next(c.path for c in controls(settings.base()))
    settings.values[path] = 0.99
    mc = monte_carlo(settings, replicates=300).rows.set_index("outcome")
    c = compare(settings.base(), settings.scenario(), replicates=300, seed=settings.seed, workers=1)
    table = c.table.set_index("outcome")
    for name in ("armed_incident", "article4", "blockade"):
        assert mc.loc[name, "a"] == table.loc[name, "estimate_a"]
        assert mc.loc[name, "b"] == table.loc[name, "estimate_b"]
        assert mc.loc[name, "diff_low"] == table.loc[name, "ci_low"]


def test_a_seat_persona_in_the_world_is_the_games_persona():
    """The explorer's world with poland=hawk is the game's world with the hawk's moves."""
    from sim.play.game import new_game, plan_for
    from sim.play.policy import persona

    settings = Settings(REPO / SCENARIO, seed=5, policies={"poland": "hawk"})
    world = ExplorerModel(settings)
    game = new_game(REPO / SCENARIO, ["poland"], seed=5)
    hawk = persona("hawk")
    for _ in range(12):
        move, switches = plan_for(hawk, game, "poland")
        game.play({"poland": move}, {"poland": switches})
        world.step()
    assert np.array_equal(world.state.rung, game.model.state.rung)
    assert np.array_equal(world.state.last, game.model.state.last)
    assert np.array_equal(world.state.on, game.model.state.on)


def test_save_as_scenario_extends_the_picked_one_and_reproduces_it(tmp_path):
    from sim.scenario.loader import load_scenario, scenario_to_yaml

    base = tmp_path / "picked.yaml"
    base.write_text(scenario_to_yaml(load_scenario(REPO / SCENARIO)))
    settings = Settings(base, seed=3)
    chosen = controls(settings.base())[:2]
    for c in chosen:
        settings.values[c.path] = c.high
    out = save_scenario(settings, tmp_path / "mine.yaml")
    text = out.read_text()
    assert "extends: picked.yaml" in text
    saved = load_scenario(out)
    assert saved.name == "mine"
    world = ExplorerModel(settings).run()
    again = ExplorerModel(Settings(out, seed=3)).run()
    assert world.outcomes().equals(again.outcomes())
    with pytest.raises(Exception, match="exists"):
        save_scenario(settings, out)
    with pytest.raises(Exception, match="beside"):
        save_scenario(settings, tmp_path / "sub" / "x.yaml")


def test_bad_explore_input_is_one_line_and_exit_2(escalation):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    for args in (
        ["explore", "scenarios/missing.yaml", "--port", str(_free_port())],
        ["explore", SCENARIO, "--port", "70000"],
        ["explore", SCENARIO, "--port", "http"],
        ["explore", SCENARIO, "--port", str(taken.getsockname()[1])],
    ):
        r = escalation(*args, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr
    taken.close()


def test_a_student_reads_grouped_labelled_sliders_a_ladder_and_can_search(page):
    from sim.explore.panels import sliders

    groups = sliders(Settings(REPO / SCENARIO).base(), REPO / SCENARIO)
    heads = page.locator(".param-group").all_inner_texts()
    assert heads == [g for g, _ in groups]
    labels = page.locator(".explore-params .v-label").all_inner_texts()
    first = groups[0][1][0]
    assert any(t.startswith(f"{first.label} [{first.tag}]") for t in labels), labels[:3]
    # No slider is named by its path; every one shows a tag and its distribution.
    assert not [t for t in labels if "actors." in t or "motives" in t or "_" in t.split("[")[0]]
    assert {t.split("[")[1].split("]")[0] for t in labels} <= {
        "source", "history", "assumption", "calibrated", "untagged", "default"
    }  # fmt: skip
    helps = page.locator(".param-help").all_inner_texts()
    assert len(helps) == len(labels) and all("uncertain:" in h for h in helps)
    # The one-world panel draws each actor's line on the ladder.
    lines = page.locator(".world-ladder polyline")
    assert lines.count() == len(Settings(REPO / SCENARIO).base().actors)
    # Search keeps the matching sliders only, and clearing it brings them all back.
    search = page.get_by_label("search (actor, mechanism, word, tag)")
    search.fill(first.group)
    page.wait_for_function(
        "n => document.querySelectorAll('.explore-params [role=slider]').length === n",
        arg=sum(1 for g in groups for x in g[1] if x.matches(first.group)),
    )
    search.fill("")
    page.wait_for_function(
        "n => document.querySelectorAll('.explore-params [role=slider]').length === n",
        arg=sum(len(g[1]) for g in groups),
    )


def test_explore_without_its_browser_files_says_so_in_one_line(tmp_path):
    """A cache without Solara's packages: the command names them instead of serving a page
    that stays blank without a public CDN."""
    from sim.explore import assets

    empty = tmp_path / "cdn"
    empty.mkdir()
    env = {**os.environ, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(empty), "MPLBACKEND": "Agg"}
    r = subprocess.run(
        [*escalation_command(), "explore", SCENARIO, "--port", str(_free_port())],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "browser files are not installed" in line and "sim.explore.assets" in line
    for package in assets.missing(empty):
        assert package in line


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, *sys.argv[1:]]))
