"""The report's three plots (plotly), as HTML fragments without the library (the page inlines plotly.js once).

1. Monthly totals side by side: TimeLog's booked total and Uniconta's posted total per month (home currency).
2. Differences over time: open differences per month, stacked by category, with the net amount difference.
3. Ageing of open differences: how long they have been open, in buckets, stacked by category.

Only our own labels, months and numbers go into the figures — never a customer's or debtor's name — so the JSON
embedded in the page carries no user-supplied text.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from decimal import Decimal

from tlsync.reconcile.model import CATEGORIES, LABELS, MATCHED, Reconciliation

from .tables import month_totals

AGE_BUCKETS = ((0, 30, "0–30 days"), (31, 60, "31–60 days"), (61, 90, "61–90 days"), (91, 180, "91–180 days"),
               (181, None, "over 180 days"))
COLOURS = {"timelog": "#1f77b4", "uniconta": "#ff7f0e", "amounts_differ": "#d62728",
           "missing_in_uniconta": "#9467bd", "missing_in_timelog": "#8c564b", "debtor_differs": "#e377c2",
           "currency_differs": "#7f7f7f", "draft_in_uniconta": "#bcbd22", "lines_edited": "#17becf"}
CONFIG = {"displaylogo": False, "responsive": True}


def _fragment(fig) -> str:
    fig.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 40}, height=360, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2})
    return fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG)


def _f(x: Decimal) -> float:
    return float(x)   # plotting only: the tables carry the exact Decimal values


def monthly_totals(recon: Reconciliation) -> str:
    import plotly.graph_objects as go

    months = [m for m in month_totals(recon.rows) if m.currency == recon.home_currency]
    x = [m.period for m in months]
    fig = go.Figure([
        go.Bar(name="TimeLog (booked)", x=x, y=[_f(m.tl_total) for m in months], marker_color=COLOURS["timelog"]),
        go.Bar(name="Uniconta (posted)", x=x, y=[_f(m.uc_total) for m in months], marker_color=COLOURS["uniconta"]),
    ])
    fig.update_layout(barmode="group", title=f"Monthly totals incl. VAT ({recon.home_currency})",
                      xaxis={"type": "category"}, yaxis={"tickformat": ",.2f"})
    return _fragment(fig)


def differences_over_time(recon: Reconciliation) -> str:
    import plotly.graph_objects as go

    periods = sorted({r.period for r in recon.rows})
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in recon.rows:
        if r.open:
            counts[r.category][r.period] += 1
    months = {m.period: m for m in month_totals(recon.rows) if m.currency == recon.home_currency}
    traces = [go.Bar(name=LABELS[c], x=periods, y=[counts[c][p] for p in periods], marker_color=COLOURS[c])
              for c in CATEGORIES if c != MATCHED and counts.get(c)]
    traces.append(go.Scatter(name=f"Difference ({recon.home_currency})", x=periods, yaxis="y2", mode="lines+markers",
                             y=[_f(months[p].difference) if p in months else 0.0 for p in periods],
                             line={"color": "#333"}))
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack", title="Open differences per month", xaxis={"type": "category"},
                      yaxis={"title": "count"},
                      yaxis2={"title": recon.home_currency, "overlaying": "y", "side": "right", "tickformat": ",.0f"})
    return _fragment(fig)


def bucket(age: int) -> str:
    for lo, hi, label in AGE_BUCKETS:
        if age >= lo and (hi is None or age <= hi):
            return label
    return AGE_BUCKETS[0][2]   # a date after "as of" counts as new


def ageing(recon: Reconciliation) -> str:
    import plotly.graph_objects as go

    labels = [b[2] for b in AGE_BUCKETS]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in recon.rows:
        if r.open and r.age_days is not None:
            counts[r.category][bucket(r.age_days)] += 1
    traces = [go.Bar(name=LABELS[c], x=labels, y=[counts[c][b] for b in labels], marker_color=COLOURS[c])
              for c in CATEGORIES if c != MATCHED and counts.get(c)]
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack", title=f"Ageing of open differences (as of {recon.as_of})",
                      xaxis={"type": "category"}, yaxis={"title": "count"})
    return _fragment(fig)


def all_plots(recon: Reconciliation) -> list[str]:
    return [monthly_totals(recon), differences_over_time(recon), ageing(recon)]


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped inside the Python package — inlined so the page works offline."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
