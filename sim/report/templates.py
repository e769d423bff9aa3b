"""The report's Jinja2 templates, kept as text in the package (no data files to install).

``page`` is the frame every report shares; ``block/<kind>`` is the part that differs by folder
kind. A new kind of folder is one more ``block/<kind>`` entry here and one
context builder registered in :data:`sim.report.BUILDERS`.
"""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
  body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
         padding: 0 1rem; color: #222; line-height: 1.45; font-size: 14px; }
  h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
  h2 { font-size: 1.2rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem;
       margin-top: 2rem; }
  .kind { color: #666; margin-top: 0; }
  .caveat { background: #fff6e0; border-left: 4px solid #e0a800; padding: 0.5rem 1rem; }
  table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; font-size: 12px; }
  th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 6px; text-align: left;
           vertical-align: top; }
  th { background: #f3f3f3; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .tag { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 11px; }
  .tag-source { background: #d8ecd8; } .tag-history { background: #dbe6f5; }
  .tag-assumption { background: #f7dfd3; } .tag-untagged { background: #eee; color: #777; }
  .tag-default { background: #eee; color: #777; } .tag-calibrated { background: #e6dcf2; }
  figure { margin: 1rem 0; page-break-inside: avoid; }
  figure img { max-width: 100%; border: 1px solid #eee; }
  figcaption { font-size: 12px; color: #555; }
  pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 12px;
        white-space: pre-wrap; word-break: break-all; }
  .rule { margin: 0.3rem 0 0.6rem; }
  .desc { font-size: 11px; color: #666; }
  .lead { color: #444; margin: 0.3rem 0; }
  .quiet { font-size: 12px; color: #666; }
  .caveat-small { font-size: 12px; color: #555; border-top: 1px solid #ddd; padding-top: 0.3rem; }
  #headline td.estimate { font-size: 15px; font-weight: bold; }
  #headline td { padding: 4px 6px; }
  #headline-chart img { width: 100%; }
  tr.group th { background: #e9eef6; }
  /* The same columns in every outcome table, so the appendix reads as one table. */
  table.outcomes, #headline { table-layout: fixed; }
  table.outcomes th:not(:first-child), #headline th:not(:first-child) { text-align: right; }
  table.outcomes th:nth-child(1), #headline th:nth-child(1) { width: 58%; }
  table.outcomes th:nth-child(2), #headline th:nth-child(2) { width: 13%; }
  table.outcomes th:nth-child(3), #headline th:nth-child(3) { width: 19%; }
  table.drivers-brief td:first-child { width: 40%; }
  @media print {
    body { margin: 0; max-width: none; font-size: 12px; }
    h2 { page-break-after: avoid; }
    .appendix, #assumptions { page-break-before: always; }
    .page-one h2 { margin-top: 0.6rem; }
    h1 { margin-top: 0; }
  }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="kind">{{ kind_label }} &middot; {{ folder }} &middot; written {{ written }}</p>
<p class="caveat"><strong>An exploration of stated assumptions, not a forecast.</strong>
The numbers below say what follows from the assumptions listed in this report, under the model
described in the methods section; they are not probabilities of real-world events.</p>

<section id="question">
<h2>The question</h2>
{% for q in question %}<p>{{ q }}</p>{% endfor %}
</section>

{% include "block/" ~ kind %}

<section id="assumptions">
<h2>Assumptions</h2>
<p>Every parameter of {{ scenario_label }}: its value or distribution, and where the value comes
from, as tagged in the scenario file ([source] a fact stated in the source document, [history] a
historical record, [assumption] a modelling assumption; calibrated: a table of joint draws fitted
to data, with its provenance). {{ provenance_note }}</p>
<table id="assumptions-table">
<thead><tr><th>parameter</th><th>value</th><th>tag</th><th>set in</th><th>note</th></tr></thead>
<tbody>
{% for a in assumptions %}<tr class="assumption" data-kind="{{ a.kind }}">
<td>{{ a.path }}</td><td>{{ a.value }}</td>
<td><span class="tag tag-{{ a.tag }}">{{ a.tag }}</span></td><td>{{ a.where }}</td>
<td>{{ a.note }}</td></tr>
{% endfor %}</tbody>
</table>
</section>

<section id="methods">
<h2>Methods</h2>
{% for m in methods %}<p>{{ m }}</p>{% endfor %}
</section>

<section id="caveats">
<h2>Caveats</h2>
<ul>{% for c in caveats %}<li>{{ c }}</li>{% endfor %}</ul>
</section>

<section id="reproduce">
<h2>Reproduce</h2>
<p>The exact command:</p>
<pre id="command">{{ command }}</pre>
{% if reproduce_note is defined %}<p id="reproduce-note">{{ reproduce_note }}</p>{% endif %}
<p>Versions:</p>
<table id="versions"><tbody>
{% for k, v in versions %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}
</tbody></table>
</section>
</body>
</html>
"""

_FIGURES = """{% for f in figures %}<figure>
<img src="data:image/png;base64,{{ f.data }}" alt="{{ f.caption }}">
<figcaption>{{ f.caption }}</figcaption></figure>
{% endfor %}"""

_HEADLINE = """<table id="headline">
<thead><tr><th>outcome</th><th>estimate</th><th>95% interval</th><th>n</th></tr></thead>
<tbody>{% for h in headline %}<tr class="headline"><td>{{ h.outcome }}</td>
<td class="num">{{ h.estimate }}</td><td class="num">{{ h.interval }}</td>
<td class="num">{{ h.n }}</td></tr>{% endfor %}</tbody></table>"""

_DRIVERS = """{% if drivers %}<section id="drivers">
<h2>What drives the outcomes</h2>
{% for d in drivers %}<h3>{{ d.title }}</h3>
{% if d.text %}<p>{{ d.text }}</p>{% endif %}
{% if d.rows %}<table class="drivers"><thead><tr>{% for c in d.columns %}<th>{{ c }}</th>
{% endfor %}</tr></thead><tbody>{% for r in d.rows %}<tr>{% for v in r %}<td>{{ v }}</td>
{% endfor %}</tr>{% endfor %}</tbody></table>{% endif %}
{% for rule in d.rules %}<p class="rule">{{ rule }}</p>{% endfor %}
{% endfor %}</section>{% endif %}"""

_OUTCOME_GROUPS = """{% for g in outcome_groups %}<h3>{{ g.title }}</h3>
{% if g.rows %}<table class="outcomes" data-group="{{ g.key }}">
<thead><tr><th>outcome</th><th>estimate</th><th>95% interval</th><th>worlds</th></tr></thead>
<tbody>{% for h in g.rows %}<tr class="outcome" data-key="{{ h.key }}"><td>{{ h.label }}
{% if h.description %}<div class="desc">{{ h.description }}</div>{% endif %}</td>
<td class="num">{{ h.estimate }}</td><td class="num">{{ h.interval }}</td>
<td class="num">{{ h.n }}</td></tr>{% endfor %}</tbody></table>{% endif %}
{% if g.quiet %}<p class="quiet">Not in any world: {{ g.quiet | join("; ") }}.</p>{% endif %}
{% endfor %}"""

# Page one is what an analyst hands over: the declared outcomes, their chart, what drives them
# and the caveat. Everything else starts on a new printed page as an appendix.
RUN = (
    """<section id="headline-outcomes" class="page-one">
<h2>Headline outcomes</h2>
<p class="lead">Share of {{ replicates }} simulated worlds (seed {{ seed }}) in which each
outcome happens, with its 95% Wilson interval.</p>
<table id="headline">
<thead><tr><th>outcome</th><th>estimate</th><th>95% interval</th><th>worlds</th></tr></thead>
<tbody>{% for h in headline %}<tr class="headline" data-key="{{ h.key }}"><td>{{ h.label }}
{% if h.description %}<div class="desc">{{ h.description }}</div>{% endif %}</td>
<td class="num estimate">{{ h.estimate }}</td><td class="num">{{ h.interval }}</td>
<td class="num">{{ h.n }}</td></tr>{% endfor %}</tbody></table>
{% if headline_figure %}<figure id="headline-chart">
<img src="data:image/png;base64,{{ headline_figure.data }}" alt="{{ headline_figure.caption }}">
<figcaption>{{ headline_figure.caption }}</figcaption></figure>{% endif %}
{% if headline_drivers %}<div id="headline-drivers">
<h3>What drives them</h3>
<p class="lead">The three most influential assumptions per outcome ({{ headline_drivers.method }},
from the sensitivity analysis in {{ headline_drivers.folder }}).</p>
<table class="drivers-brief"><tbody>{% for d in headline_drivers.rows %}<tr><td>{{ d.outcome }}</td>
<td>{% for f in d.factors %}{{ f.group }}: {{ f.label }} ({{ f.index }}){% if not loop.last %};
{% endif %}{% endfor %}</td></tr>{% endfor %}</tbody></table></div>
{% else %}<p class="lead" id="no-drivers">What drives these outcomes: run
<code>escalation sensitivity</code> on this scenario; a sensitivity folder beside this run is
summarised here.</p>{% endif %}
<p class="caveat-small">An exploration of stated assumptions, not a forecast. The intervals
measure Monte Carlo sampling error only, not errors in the assumptions (listed in the
appendix) or in the model's structure (see Methods).</p>
</section>
<section id="appendix-outcomes" class="appendix">
<h2>Appendix A. Every outcome, by theme</h2>
"""
    + _OUTCOME_GROUPS
    + """</section>
<section id="charts" class="appendix"><h2>Appendix B. Charts</h2>
"""
    + _FIGURES
    + "</section>\n"
    + _DRIVERS
)

COMPARISON = (
    """<section id="headline-outcomes">
<h2>Headline outcomes: B against A</h2>
<p>A: {{ a_label }}. B: {{ b_label }}. Both on the same seed and replicate ids (common random
numbers); the interval is the paired 95% interval of B - A, in percentage points (pp) for
probabilities.</p>
<table id="headline"><thead><tr><th>outcome</th><th>A</th><th>B</th><th>B - A</th>
<th>95% interval of B - A</th></tr></thead><tbody>
{% for h in headline %}{% if loop.first or h.group != loop.previtem.group %}<tr class="group">
<th colspan="5">{{ h.group }}</th></tr>{% endif %}<tr class="headline" data-key="{{ h.key }}">
<td>{{ h.outcome }}</td><td class="num">{{ h.a }}</td>
<td class="num">{{ h.b }}</td><td class="num">{{ h.diff }}</td>
<td class="num">{{ h.interval }}</td></tr>{% endfor %}</tbody></table>
</section>
<section id="charts"><h2>Charts</h2>
"""
    + _FIGURES
    + "</section>\n"
    + _DRIVERS
)

SENSITIVITY = (
    """<section id="headline-outcomes">
<h2>Headline outcomes over the design</h2>
<p>{{ design_text }}</p>
<table id="headline"><thead><tr><th>outcome</th><th>mean over the design</th>
<th>chance alone (share of replicate variance)</th><th>noise in the point means</th>
</tr></thead><tbody>{% for h in headline %}<tr class="headline"><td>{{ h.outcome }}</td>
<td class="num">{{ h.mean }}</td><td class="num">{{ h.noise }}</td>
<td class="num">{{ h.noise_means }}</td></tr>{% endfor %}</tbody></table>
</section>
"""
    + _DRIVERS
    + """<section id="charts"><h2>Charts</h2>
"""
    + _FIGURES
    + "</section>\n"
)

SWEEP = (
    """<section id="headline-outcomes">
<h2>Headline outcomes along the sweep</h2>
<p>{{ design_text }}</p>
<table id="headline"><thead><tr>{% for k in keys %}<th>{{ k }}</th>{% endfor %}<th>outcome</th>
<th>estimate</th><th>95% interval</th></tr></thead><tbody>
{% for h in headline %}<tr class="headline">{% for v in h.at %}<td class="num">{{ v }}</td>
{% endfor %}<td>{{ h.outcome }}</td><td class="num">{{ h.estimate }}</td>
<td class="num">{{ h.interval }}</td></tr>{% endfor %}</tbody></table>
{% for c in crossings %}<p class="rule">{{ c }}</p>{% endfor %}
</section>
<section id="charts"><h2>Charts</h2>
"""
    + _FIGURES
    + "</section>\n"
)

BACKTEST = (
    """<section id="calibration">
<h2>The calibration it used</h2>
<p>The shared ladder dynamics as shipped: table <code>{{ calibration.table }}</code> of
{{ calibration.rows }} joint posterior draws in {{ calibration.file }}, provenance
<code>[{{ calibration.provenance }}]</code>. Each replicate takes one row, so every run carries
the calibration's uncertainty. Fitted to the comparison class
<strong id="fit-class">{{ calibration.fit_class }}</strong>; held out:
<span id="held-out">{{ calibration.held_out }}</span>. The table the scenarios ship now is the
one this backtest used: <span id="shipped-now">{{ calibration.shipped_now }}</span>.</p>
<table id="classes"><thead><tr><th>comparison class</th><th>role</th><th>disputes</th>
<th>what it holds</th></tr></thead><tbody>
{% for c in classes %}<tr class="class"><td>{{ c.name }}</td><td>{{ c.role }}</td>
<td class="num">{{ c.disputes }}</td><td>{{ c.description }}</td></tr>{% endfor %}
</tbody></table>
<table id="posterior"><thead><tr><th>parameter</th><th>prior</th><th>5%</th><th>median</th>
<th>95%</th></tr></thead><tbody>
{% for p in posterior %}<tr class="parameter"><td>{{ p.path }}</td><td>{{ p.prior }}</td>
{% for v in p.q %}<td class="num">{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>
</section>
<section id="episodes">
<h2>What happened, and the probability the model gave it</h2>
<p>Each episode on {{ replicates }} replicates, seed {{ seed }}; 90% Wilson intervals.
Uncalibrated: the same scenario with the shared dynamics at their values before calibration,
on the same random numbers. Plausible: at least {{ plausible }}, calibrated.</p>
<table id="episodes-table"><thead><tr><th>episode (scenario)</th><th>what happened</th>
<th>repeats</th><th>P calibrated [90% interval]</th><th>P uncalibrated [90% interval]</th>
<th>plausible</th></tr></thead><tbody>
{% for e in episodes %}<tr class="episode" data-episode="{{ e.episode }}"><td>{{ e.episode }}
<br><small>{{ e.scenario }}</small></td><td>{{ e.happened }}</td>
<td class="num">{{ e.repeats }}</td>
<td class="num">{{ e.probability }} {{ e.interval }}</td>
<td class="num">{{ e.uncalibrated }} {{ e.uncalibrated_interval }}</td>
<td>{{ e.plausible }}</td></tr>{% endfor %}</tbody></table>
</section>
<section id="statistics">
<h2>The MID record: observed against the model's 90% predictive interval</h2>
<p>Inside the interval: <strong id="inside-count">{{ counts.all }}</strong> statistics in all;
in-sample <span id="inside-in-sample">{{ counts.in_sample }}</span> ({{ share_in_sample }}),
of them the fitted statistics <span id="inside-fitted">{{ counts.fitted }}</span>; held out
<span id="inside-held-out">{{ counts.held_out }}</span> ({{ share_held_out }}).</p>
<table id="statistics-table"><thead><tr><th>class</th><th>sample</th><th>statistic</th>
<th>fitted</th><th>observed</th><th>count / disputes</th><th>model median</th>
<th>90% predictive interval</th><th>inside</th></tr></thead><tbody>
{% for s in statistics %}<tr class="statistic" data-inside="{{ s.inside }}"><td>{{ s.cls }}</td>
<td>{{ s.role }}</td><td title="{{ s.statistic }}">{{ s.label }}</td><td>{{ s.fitted }}</td>
<td class="num">{{ s.observed }}</td><td class="num">{{ s.count }}</td>
<td class="num">{{ s.model }}</td><td class="num">{{ s.interval }}</td><td>{{ s.inside }}</td>
</tr>{% endfor %}</tbody></table>
</section>
<section id="charts"><h2>Charts</h2>
"""
    + _FIGURES
    + "</section>\n"
)

TEMPLATES = {
    "page": PAGE,
    "block/run": RUN,
    "block/comparison": COMPARISON,
    "block/sensitivity": SENSITIVITY,
    "block/sweep": SWEEP,
    "block/backtest": BACKTEST,
}
"""Template name -> Jinja2 source."""
