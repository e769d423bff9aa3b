"""Benchmark the explorer and the game: the Monte Carlo button, what-if branches, personas.

Run with ``.venv/bin/python bench/bench_play.py [--no-browser]``. Prints figures; copy them into
bench/README.md ("Explorer and play"). Nothing here asserts a timing.

Measures:
  (a) the explorer's Monte Carlo (2,000 replicates of the current settings beside 2,000 of the
      unchanged scenario, through sim.api.compare, in-process) per shipped scenario: the first
      press in a fresh process and the median/max of five more;
  (b) the same press in the real page: ``escalation explore`` on a free port, headless
      Chromium clicks "Monte Carlo" and waits until the new bars are drawn (click to bars);
  (c) the game: one day played, undo at day 30 (rebuild from day 0), "what happens from here?"
      with 1,000 worlds;
  (d) a persona in one seat (``run_replicates(policies=...)``) against the model's own rule,
      10,000 replicates.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCENARIOS = ("baseline", "staged_provocation", "combined")


def explorer_mc() -> None:
    from sim.explore.model import Settings, controls, monte_carlo

    print("(a) explorer Monte Carlo, in-process (2 x 2,000 replicates)")
    for name in SCENARIOS:
        settings = Settings(REPO / "scenarios" / f"{name}.yaml")
        first = controls(settings.base())[0]
        settings.values[first.path] = first.high
        t0 = time.perf_counter()
        monte_carlo(settings)
        cold = time.perf_counter() - t0
        warm, cpu = [], []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.process_time()
            monte_carlo(settings)
            warm.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        # CPU seconds of this process: what a press costs without other programs on the cores.
        print(
            f"  {name:<20} first {cold:5.2f} s   then median {statistics.median(warm):5.2f} s, "
            f"max {max(warm):5.2f} s; CPU median {statistics.median(cpu):5.2f} s"
        )


def explorer_browser() -> None:
    from playwright.sync_api import sync_playwright

    from sim.explore import assets

    assets.install()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [str(REPO / ".venv" / "bin" / "escalation"), "explore"]
    proc = subprocess.Popen(
        [*cmd, "scenarios/staged_provocation.yaml", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        time.sleep(1.0)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]  # fmt: skip
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=args)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(60_000)
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator(".mc-button").wait_for()
            print(f"(b) page ready in {time.perf_counter() - t0:.2f} s; Monte Carlo click to bars:")
            times = []
            for i in range(4):
                page.locator(".explore-params [role=slider]").nth(i).focus()
                page.keyboard.press("End")
                page.get_by_text("(set)").nth(i).wait_for()
                t0 = time.perf_counter()
                page.locator(".mc-button").click()
                page.wait_for_function(
                    f"() => (document.querySelector('.mc-info')?.innerText.match(/=/g) || [])"
                    f".length >= {i + 1}"
                )
                times.append(time.perf_counter() - t0)
            browser.close()
        print("  " + ", ".join(f"{t:.2f} s" for t in times) + f" (max {max(times):.2f} s)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def game() -> None:
    from sim.play.game import new_game

    g = new_game(REPO / "scenarios" / "staged_provocation.yaml", ["poland"], seed=1)
    t0 = time.perf_counter()
    for _ in range(30):
        g.play({"poland": str(g.menu("poland").query("available").move.iloc[0])})
    per_day = (time.perf_counter() - t0) / 30
    t0 = time.perf_counter()
    g.undo()
    undo = time.perf_counter() - t0
    g2 = new_game(REPO / "scenarios" / "staged_provocation.yaml", ["poland"], seed=1)
    for _ in range(5):
        g2.play({"poland": str(g2.menu("poland").query("available").move.iloc[0])})
    t0 = time.perf_counter()
    g2.whatif(1000)
    whatif = time.perf_counter() - t0
    print(
        f"(c) game: a day played {per_day * 1000:.1f} ms; undo at day 30 {undo * 1000:.0f} ms; "
        f"what-if (1,000 worlds from day 5) {whatif:.2f} s"
    )


def personas() -> None:
    from sim.model import run_replicates
    from sim.scenario import load_scenario

    s = load_scenario(REPO / "scenarios" / "staged_provocation.yaml")
    ids = np.arange(10_000)
    t0 = time.perf_counter()
    run_replicates(s, 1, ids)
    own = time.perf_counter() - t0
    print(f"(d) 10,000 replicates: model's own rule {own:.2f} s", end="")
    for name in ("hawk", "dove", "tit_for_tat"):
        t0 = time.perf_counter()
        run_replicates(s, 1, ids, policies={"poland": name})
        print(f"; poland={name} {time.perf_counter() - t0:.2f} s", end="")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-browser", action="store_true", help="skip (b)")
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    explorer_mc()
    if not args.no_browser:
        explorer_browser()
    game()
    personas()


if __name__ == "__main__":
    main()
