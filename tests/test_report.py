"""The report: rendered by headless Chromium (Playwright, Debian's chromium), checked on the page.

The report of a run, a comparison, a sensitivity and a sweep folder is opened in a real
browser; the tests check the headings, the rows of the assumptions and headline tables, the
provenance tags read from the scenario files, and that every chart is an image that loaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "sensitivity"
CHROMIUM = shutil.which("chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, html: Path):
    page = browser.new_page()
    # Self-contained: any request other than the file itself is a defect.
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.resolve().as_uri(), wait_until="load")
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    return page


def _images_loaded(page) -> list[int]:
    return page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")


def _headings(page) -> list[str]:
    return [h.strip() for h in page.eval_on_selector_all("h2", "els => els.map(e => e.innerText)")]


@pytest.fixture(scope="module")
def run_report(tmp_path_factory):
    import sim

    out = tmp_path_factory.mktemp("rep") / "run"
    sim.run(REPO / "scenarios" / "staged_provocation.yaml", replicates=1500, seed=3, out=out,
            workers=1)  # fmt: skip
    sim.discover(out, "staged_incident", out=out / "discovery" / "staged_incident")
    return out


def test_run_report_in_chromium(escalation, browser, run_report) -> None:
    p = escalation("report", str(run_report))
    assert p.returncode == 0, p.stderr
    html, pdf = run_report / "report.html", run_report / "report.pdf"
    assert f"html: {html}" in p.stdout and pdf.read_bytes()[:5] == b"%PDF-"
    page = _open(browser, html)
    heads = _headings(page)
    for h in ("The question", "Headline outcomes", "Appendix A. Every outcome, by theme",
              "Appendix B. Charts", "What drives the outcomes", "Assumptions", "Methods",
              "Caveats", "Reproduce"):  # fmt: skip
        assert h in heads, heads
    assert heads.index("Headline outcomes") < heads.index("Appendix A. Every outcome, by theme")
    assert "not a forecast" in page.inner_text(".caveat")
    # Page one: the declared outcomes under their descriptions, as percentages.
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(REPO / "scenarios" / "staged_provocation.yaml")
    cells = page.eval_on_selector_all(
        "#headline tr.headline", "els => els.map(e => Array.from(e.cells).map(c => c.innerText))"
    )
    labels = [c[0].splitlines()[0].strip().lower() for c in cells]
    declared = [d.description.lower() for d in scenario.outcomes.declared.values()]
    assert labels[1:] == declared and "armed incident" in labels[0]
    assert all(c[1].endswith("%") and c[2].startswith("[") and "%" in c[2] for c in cells)
    # No identifier a reader would have to decode, on page one or in the outcomes appendix.
    shown = page.inner_text("#headline-outcomes") + page.inner_text("#appendix-outcomes")
    for raw in ("china_escalates", "first_armed_incident_cause", "mean:", "median:", "=",
                "nan", "_musd", "dispute_initiator"):  # fmt: skip
        assert raw not in shown, raw
    assert "No armed incident" in shown
    chart = page.eval_on_selector("#headline-chart img", "e => e.complete ? e.naturalWidth : 0")
    assert chart > 0
    sizes = _images_loaded(page)
    assert len(sizes) >= 6 and min(sizes) > 0
    # The assumptions table: one row per parameter, with the tag of its line in the file.
    from sim.scenario.loader import load_scenario
    from sim.scenario.parameters import declared_parameters

    declared = declared_parameters(load_scenario(REPO / "scenarios" / "staged_provocation.yaml"))
    rows = page.eval_on_selector_all(
        "#assumptions-table tr.assumption",
        "els => els.map(e => Array.from(e.cells).map(c => c.innerText))",
    )
    assert len(rows) == len(declared)
    by_path = {r[0]: r for r in rows}
    tags = {r[2] for r in rows}
    assert {"source", "assumption"} <= tags
    # Tags come from the comment on the key's line: check three against the files themselves.
    checked = 0
    for path, row in by_path.items():
        where = row[3]
        if ":" not in where or row[2] not in ("source", "assumption", "history"):
            continue
        file, line = where.rsplit(":", 1)
        text = (REPO / file).read_text().splitlines()[int(line) - 1]
        if "#" in text:
            assert f"[{row[2]}" in text.split("#", 1)[1].lower(), (path, text)
            checked += 1
    assert checked >= 3
    assert "when injects[0].probability" not in page.inner_text("#drivers")  # not this scenario
    assert "Scenario discovery (PRIM): staged_incident" in page.inner_text("#drivers")
    command = page.inner_text("#command")
    assert command.startswith("escalation run") or "sim" in command
    assert "numpy" in page.inner_text("#versions")


def test_run_report_names_the_drivers_of_a_sensitivity_beside_it(
    escalation, browser, tmp_path
) -> None:
    import json

    from sim.api_analysis import load_sensitivity
    from sim.report.parameters import describe_parameter
    from sim.scenario.loader import load_scenario

    scenario = FIXTURES / "one_driver.yaml"
    p = escalation("run", str(scenario), "-n", "300", "--seed", "2", "--workers", "1",
                   "--no-charts", "-o", str(tmp_path / "run"))  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert escalation("report", str(tmp_path / "run"), "--no-pdf").returncode == 0
    page = _open(browser, tmp_path / "run" / "report.html")
    assert page.query_selector("#headline-drivers") is None
    assert "escalation sensitivity" in page.inner_text("#no-drivers")

    p = escalation("sensitivity", str(scenario), "--method", "morris", "-N", "8", "-k", "4",
                   "--outcome", "armed_incident", "--out", str(tmp_path / "sens"),
                   "--quiet")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "sens" / "analysis.json").read_text())["kind"] == "sensitivity"
    assert escalation("report", str(tmp_path / "run"), "--no-pdf").returncode == 0
    page = _open(browser, tmp_path / "run" / "report.html")
    text = page.inner_text("#headline-drivers")
    top = load_sensitivity(tmp_path / "sens").top("armed_incident", 1)["factor"].iloc[0]
    label = describe_parameter(load_scenario(scenario), str(top))
    assert f"{label.group}: {label.label}" in text and str(top) not in text


def test_sensitivity_report_in_chromium(escalation, browser, tmp_path) -> None:
    out = tmp_path / "s"
    p = escalation(
        "sensitivity", str(FIXTURES / "one_driver.yaml"), "--method", "sobol", "-N", "32",
        "-k", "8", "--outcome", "staged_incident", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    p = escalation("report", str(out), "--no-pdf")
    assert p.returncode == 0, p.stderr
    assert not (out / "report.pdf").exists()
    page = _open(browser, out / "report.html")
    assert "What drives the outcomes" in _headings(page)
    first = page.eval_on_selector_all(
        "table.drivers tbody tr", "els => els.map(e => Array.from(e.cells).map(c => c.innerText))"
    )[0]
    assert first[:2] == ["1", "injects[0].probability"]
    sizes = _images_loaded(page)
    assert len(sizes) == 2 and min(sizes) > 0
    assert "sensitivity" in page.inner_text("#command")


def test_sweep_and_comparison_reports_in_chromium(browser, tmp_path) -> None:
    import sim

    w = tmp_path / "w"
    sim.sweep(FIXTURES / "one_driver.yaml", ["injects[0].probability=0:1:3"], ["staged_incident"],
              replicates_per_point=40, threshold=0.5, out=w)  # fmt: skip
    page = _open(browser, sim.report(w, pdf=False)["html"])
    assert len(page.query_selector_all("#headline tr.headline")) == 3
    assert "crosses 0.5" in page.inner_text("#headline-outcomes")
    assert min(_images_loaded(page)) > 0

    c = tmp_path / "c"
    scen = REPO / "scenarios"
    sim.compare(scen / "baseline.yaml", scen / "staged_provocation.yaml", replicates=500, out=c,
                workers=1)  # fmt: skip
    page = _open(browser, sim.report(c, pdf=False)["html"])
    assert "Headline outcomes: B against A" in _headings(page)
    assert len(page.query_selector_all("#headline tr.headline")) >= 5
    groups = page.eval_on_selector_all("#headline tr.group", "els => els.map(e => e.innerText)")
    assert groups[0].strip() == "Headline outcomes"
    table = page.inner_text("#headline")
    assert "pp" in table and "staged_incident" not in table and "=" not in table
    assert min(_images_loaded(page)) > 0


def test_report_of_a_folder_that_is_no_results_folder(escalation, tmp_path) -> None:
    p = escalation("report", str(tmp_path))
    assert p.returncode == 2
    assert "not a results folder" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_backtest_report_in_chromium(escalation, browser, tmp_path) -> None:
    import json

    import pandas as pd

    out = tmp_path / "bt"
    p = escalation("backtest", "-n", "10", "-o", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    p = escalation("report", str(out))
    assert "no report is defined" not in p.stdout + p.stderr
    assert p.returncode == 0, p.stderr
    pdf = out / "report.pdf"
    assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:5] == b"%PDF-"
    page = _open(browser, out / "report.html")
    heads = _headings(page)
    for h in ("The question", "The calibration it used", "Charts", "Assumptions", "Methods",
              "Caveats", "Reproduce"):  # fmt: skip
        assert h in heads, heads
    info = json.loads((out / "backtest.json").read_text())
    assert page.inner_text("#fit-class") == info["fit_class"]
    assert info["fit_class"] not in page.inner_text("#held-out")
    # Every episode of episodes.csv, with its numbers as the folder has them.
    episodes = pd.read_csv(out / "episodes.csv")
    rows = page.eval_on_selector_all(
        "#episodes-table tr.episode", "els => els.map(e => [e.dataset.episode, e.innerText])"
    )
    assert [r[0] for r in rows] == list(episodes["episode"])
    for (_, text), e in zip(rows, episodes.itertuples(), strict=True):
        interval = f"{e.probability:.1%} [{e.probability_5:.1%}, {e.probability_95:.1%}]"
        assert interval in text and f"{e.uncalibrated:.1%} [" in text, (interval, text)
    # The statistics: one row each, and the inside counts are the folder's.
    stats = pd.read_csv(out / "statistics.csv")
    marks = page.eval_on_selector_all(
        "#statistics-table tr.statistic", "els => els.map(e => e.dataset.inside)"
    )
    assert len(marks) == len(stats) and marks.count("yes") == int(stats["inside_90"].sum())
    assert page.inner_text("#inside-count") == f"{int(stats['inside_90'].sum())} of {len(stats)}"
    fit = stats[stats["role"] == "fit"]
    assert page.inner_text("#inside-in-sample") == f"{int(fit['inside_90'].sum())} of {len(fit)}"
    held = stats[stats["role"] != "fit"]
    assert page.inner_text("#inside-held-out") == f"{int(held['inside_90'].sum())} of {len(held)}"
    sizes = _images_loaded(page)
    assert len(sizes) == 3 and min(sizes) > 0
    assert "after seeing" in page.inner_text("#caveats")
    assert page.inner_text("#command").startswith("escalation backtest -n 10")
    # The versions are the ones the backtest recorded, not the reporting installation's.
    assert info["versions"]["numpy"] and info["versions"]["numpy"] in page.inner_text("#versions")
    assert "those the backtest ran on" in page.inner_text("body")
