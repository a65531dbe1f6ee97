"""The report's plots: the amount bridge as a waterfall (SVG, also in the PDF) and, in the HTML page, the monthly
trend and the ageing of open differences (plotly, only when they say something).

1. **Waterfall** (:func:`waterfall_svg`): from Uniconta's total, each category's amount (TimeLog − Uniconta) added
   in turn, to TimeLog's total — the bridge drawn. Plain SVG written here: the PDF renderer runs no JavaScript,
   and a static plotly export would need kaleido and a browser at report time; a handful of rectangles does not.
2. **Monthly totals** and **open differences per month** (plotly): only when the period covers at least
   :data:`MIN_TREND_MONTHS` months — in a one-month report they add nothing.
3. **Ageing** of open differences (plotly), when there are open differences.

Axes: counts have integer ticks only (never 0.5); money ticks are round steps (1, 2, 2.5 or 5 × 10ⁿ) computed
here (:func:`nice_ticks`) and labelled in the report's number format without decimals, with the currency in the
axis title. Only our own labels, months and numbers go into the figures — never a customer's name — so the JSON
embedded in the page carries no user-supplied text; the SVG's labels are escaped all the same.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from html import escape

from tlsync.reconcile.model import CATEGORIES, MATCHED, Reconciliation

from .bridge import ROUNDING, Bridge
from .i18n import Lang
from .tables import month_totals

MIN_TREND_MONTHS = 3
AGE_BUCKETS = ((0, 30), (31, 60), (61, 90), (91, 180), (181, None))
COLOURS = {"timelog": "#1f5f9f", "uniconta": "#e08a1e", "amounts_differ": "#d62728",
           "missing_in_uniconta": "#7b4fb0", "missing_in_timelog": "#8c564b", "debtor_differs": "#e377c2",
           "currency_differs": "#7f7f7f", "draft_in_uniconta": "#a8a81c", "lines_edited": "#17a2b8",
           ROUNDING: "#9aa4ae"}
CONFIG = {"displaylogo": False, "responsive": True}


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values covering ``lo``…``hi`` (always including 0 when the range does): a step of 1, 2, 2.5 or
    5 × 10ⁿ giving about ``target`` ticks."""
    lo, hi = min(lo, 0.0, hi), max(hi, 0.0, lo)
    if hi == lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, target - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [round(i * step, 10) for i in range(first, last + 1)]


def count_step(top: int) -> int:
    """An integer tick step for counts up to ``top`` (1 for small counts, never a fraction)."""
    if top <= 8:
        return 1
    ticks = nice_ticks(0, top, 6)
    return max(1, int(ticks[1] - ticks[0]))


def _tick_label(lang: Lang, v: float) -> str:
    return lang.number(int(round(v))).replace("-", "−")


# ---- the waterfall (SVG) --------------------------------------------------------------------------------------

def waterfall_svg(bridge: Bridge, lang: Lang, *, width: int = 980) -> str:
    """The bridge as a horizontal waterfall: Uniconta's total, one bar per category moving it by the category's
    amount, TimeLog's total at the end. Labels carry the exact amounts."""
    steps: list[tuple[str, float, float, str, str]] = []      # label, start, end, colour, amount text
    uc, tl = float(bridge.uniconta_total), float(bridge.timelog_total)
    steps.append((f"{lang.t('uniconta')}", 0.0, uc, COLOURS["uniconta"], lang.money(bridge.uniconta_total)))
    level = uc
    for ln in bridge.lines:
        label = lang.t("rounding_short") if ln.key == ROUNDING else lang.category(ln.key)
        nxt = level + float(ln.amount)
        steps.append((f"{label} ({ln.count})", level, nxt, COLOURS.get(ln.key, "#888"),
                      lang.money(ln.amount, signed=True)))
        level = nxt
    steps.append((f"{lang.t('timelog')}", 0.0, tl, COLOURS["timelog"], lang.money(bridge.timelog_total)))
    ticks = nice_ticks(min(min(s[1], s[2]) for s in steps), max(max(s[1], s[2]) for s in steps))
    lo, hi = ticks[0], ticks[-1]
    left, right, top, row_h, bar_h = 300, 170, 40, 34, 22
    plot_w = width - left - right
    height = top + row_h * len(steps) + 44

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="waterfall" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" '
           'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="15">',
           f'<text x="{left}" y="22" font-size="17" font-weight="bold">'
           f'{escape(lang.t("waterfall", cur=bridge.currency))}</text>']
    axis_y = top + row_h * len(steps) + 4
    for t in ticks:
        out.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" stroke="'
                   f'{"#555" if t == 0 else "#e3e6ea"}" stroke-width="1"/>')
        out.append(f'<text x="{x(t):.1f}" y="{axis_y + 18}" text-anchor="middle" fill="#555">'
                   f'{escape(_tick_label(lang, t))}</text>')
    for i, (label, a, b, colour, amount) in enumerate(steps):
        y = top + i * row_h
        x0, x1 = sorted((x(a), x(b)))
        w = max(x1 - x0, 1.5)
        out.append(f'<text x="{left - 8}" y="{y + bar_h - 4}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        if 0 < i < len(steps) - 1:
            out.append(f'<line x1="{x(b):.1f}" y1="{y + bar_h}" x2="{x(b):.1f}" y2="{y + row_h}" stroke="#999" '
                       f'stroke-dasharray="2,2"/>')
        out.append(f'<text x="{width - 6}" y="{y + bar_h - 4}" text-anchor="end" font-weight="'
                   f'{"bold" if i in (0, len(steps) - 1) else "normal"}">{escape(amount)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 2}" text-anchor="middle" fill="#555">'
               f'{escape(bridge.currency)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# ---- plotly (HTML only) ----------------------------------------------------------------------------------------

def _fragment(fig, lang: Lang) -> str:
    fig.update_layout(margin={"l": 70, "r": 70, "t": 50, "b": 40}, height=340, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2}, separators=",." if lang.code == "da" else ".,")
    return fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG)


def _money_axis(values: list[float], lang: Lang, currency: str) -> dict:
    ticks = nice_ticks(min(values, default=0.0), max(values, default=0.0))
    return {"title": currency, "tickvals": ticks, "ticktext": [_tick_label(lang, t) for t in ticks],
            "range": [ticks[0], ticks[-1]]}


def _count_axis(top: int, title: str) -> dict:
    step = count_step(top)
    return {"title": title, "tick0": 0, "dtick": step, "tickformat": "d",
            "range": [0, max(step, math.ceil(top / step) * step) * 1.05], "rangemode": "tozero"}


def _home_months(recon: Reconciliation):
    return [m for m in month_totals(recon.rows) if m.currency == recon.home_currency]


def monthly_totals(recon: Reconciliation, lang: Lang) -> str:
    import plotly.graph_objects as go

    months = _home_months(recon)
    x = [m.period for m in months]
    tl, uc = [float(m.tl_total) for m in months], [float(m.uc_total) for m in months]
    fig = go.Figure([go.Bar(name="TimeLog", x=x, y=tl, marker_color=COLOURS["timelog"]),
                     go.Bar(name="Uniconta", x=x, y=uc, marker_color=COLOURS["uniconta"])])
    fig.update_layout(barmode="group", title=lang.t("trend", cur=recon.home_currency), xaxis={"type": "category"},
                      yaxis=_money_axis(tl + uc, lang, recon.home_currency))
    return _fragment(fig, lang)


def differences_over_time(recon: Reconciliation, lang: Lang) -> str:
    import plotly.graph_objects as go

    periods = sorted({r.period for r in recon.rows})
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in recon.rows:
        if r.open:
            counts[r.category][r.period] += 1
    traces = [go.Bar(name=lang.category(c), x=periods, y=[counts[c][p] for p in periods], marker_color=COLOURS[c])
              for c in CATEGORIES if c != MATCHED and counts.get(c)]
    top = max((sum(counts[c][p] for c in counts) for p in periods), default=0)
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack", title=lang.t("open_per_month"), xaxis={"type": "category"},
                      yaxis=_count_axis(top, lang.t("count")))
    return _fragment(fig, lang)


def bucket_label(lo: int, hi: int | None, lang: Lang) -> str:
    return lang.t("over_days", n=lo - 1) if hi is None else f"{lo}–{hi} {lang.t('days')}"


def bucket(age: int) -> int:
    for i, (lo, hi) in enumerate(AGE_BUCKETS):
        if age >= lo and (hi is None or age <= hi):
            return i
    return 0   # a date after "as of" counts as new


def ageing(recon: Reconciliation, lang: Lang) -> str:
    import plotly.graph_objects as go

    labels = [bucket_label(lo, hi, lang) for lo, hi in AGE_BUCKETS]
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    for r in recon.rows:
        if r.open and r.age_days is not None:
            counts[r.category][bucket(r.age_days)] += 1
    traces = [go.Bar(name=lang.category(c), x=labels, y=counts[c], marker_color=COLOURS[c])
              for c in CATEGORIES if c != MATCHED and c in counts]
    top = max((sum(v[i] for v in counts.values()) for i in range(len(AGE_BUCKETS))), default=0)
    fig = go.Figure(traces)
    fig.update_layout(barmode="stack", title=lang.t("ageing", as_of=lang.date(recon.as_of)),
                      xaxis={"type": "category"}, yaxis=_count_axis(top, lang.t("count")))
    return _fragment(fig, lang)


def all_plots(recon: Reconciliation, lang: Lang) -> list[str]:
    """The plotly figures worth showing for this report (the waterfall is drawn separately, per currency)."""
    out = []
    if len(_home_months(recon)) >= MIN_TREND_MONTHS:
        out += [monthly_totals(recon, lang), differences_over_time(recon, lang)]
    if any(r.open and r.age_days is not None for r in recon.rows):
        out.append(ageing(recon, lang))
    return out


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped inside the Python package — inlined so the page works offline."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
