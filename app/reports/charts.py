"""Server-rendered inline SVG charts of a compliance report (no JavaScript), and their text alternatives.

Each chart scales to its container (``viewBox``, width 100%), carries a ``<title>`` and an
``aria-label`` for screen readers, a ``<title>`` per mark as its tooltip, and a sentence saying
what it shows (``texts``), printed under it. Chart text and the heat strip are drawn in
``currentColor`` so they take the page's text colour (at least 4.5:1 in the light and the dark scheme).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from app.reports.compliance import WEEKDAYS, Report

COLOURS = {"met": "#1a7f37", "late": "#b35900", "self_reported": "#6f42c1", "attempted": "#c62828",
           "no_callback": "#5b6470", "worked_by_email": "#0b5cad", "pending": "#8a6d00"}
SHORT = {"met": "Met", "late": "Late", "self_reported": "Self-reported", "attempted": "Attempted",
         "no_callback": "No callback", "worked_by_email": "By e-mail", "pending": "Under way"}
TEXT = 'fill="currentColor"'  # chart text in the page's text colour, never a fixed grey


def outcome_bars(report: Report) -> Markup:
    """Horizontal bars: how many incidents ended in each outcome."""
    width, row, label_w = 360, 30, 110
    top = max((r.count for r in report.outcomes), default=0) or 1
    parts = []
    for i, r in enumerate(report.outcomes):
        y = i * row
        w = (width - label_w - 100) * r.count / top  # room for "12 · 100.0%"
        tip = f"{r.label}: {r.count} ({r.percent}%)"
        parts.append(
            f'<text x="0" y="{y + 19}" font-size="14" {TEXT}>{escape(SHORT.get(r.key, r.label))}</text>'
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="18" fill="{COLOURS[r.key]}">'
            f"<title>{escape(tip)}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 19}" font-size="14" {TEXT}>{r.count} · {r.percent}%</text>')
    return _svg(width, row * len(report.outcomes), "Callback outcomes", "".join(parts))


def time_histogram(report: Report) -> Markup:
    """Histogram of time to callback in one-minute bins; the last bin is past the promise (late)."""
    bins, sla = report.callback_minutes, report.sla_minutes
    width, height, base = 360, 150, 120
    bar = width / len(bins)
    top = max(bins) or 1
    parts = [f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="currentColor" stroke-opacity="0.6"/>']
    for i, n in enumerate(bins):
        h = (base - 10) * n / top
        label = f"{i}–{i + 1} min" if i < sla else f"over {sla} min (late)"
        colour = COLOURS["late"] if i == sla else COLOURS["met"]
        parts.append(f'<rect x="{i * bar + 1:.1f}" y="{base - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                     f'fill="{colour}"><title>{escape(label)}: {n}</title></rect>')
        if i % 5 == 0 or i == sla:
            text = f"{i}" if i < sla else f"{sla}+"
            parts.append(f'<text x="{i * bar + bar / 2:.1f}" y="{base + 16}" font-size="12" '
                         f'text-anchor="middle" {TEXT}>{text}</text>')
    parts.append(f'<text x="{width}" y="{height - 2}" font-size="12" text-anchor="end" {TEXT}>'
                 f'minutes after capture</text>')
    return _svg(width, height, "Time to callback (minutes after capture)", "".join(parts))


def hour_heat_strip(report: Report) -> Markup:
    """A 7 x 24 grid: darker = more incidents captured in that local hour; red ring = a breach."""
    cell, left, top_pad = 18, 34, 16
    top = max((b.incidents for b in report.hours), default=0) or 1
    parts = [f'<text x="{left + h * cell + cell / 2}" y="12" font-size="10" text-anchor="middle" {TEXT}>{h:02d}</text>'
             for h in range(0, 24, 3)]
    for d, day in enumerate(WEEKDAYS):
        parts.append(f'<text x="0" y="{top_pad + d * cell + 13}" font-size="12" {TEXT}>{day}</text>')
    for b in report.hours:
        x, y = left + b.hour * cell, top_pad + (b.index // 24) * cell
        alpha = 0.08 + 0.92 * b.incidents / top if b.incidents else 0
        stroke = ' stroke="#c62828" stroke-width="2"' if b.breached else ' stroke="currentColor" stroke-opacity="0.15"'
        tip = f"{b.weekday} {b.hour:02d}:00–{b.hour:02d}:59: {b.incidents} incidents, {b.met} met, {b.breached} breached"
        parts.append(f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" '
                     f'fill="currentColor" fill-opacity="{alpha:.2f}"{stroke}><title>{tip}</title></rect>')
    return _svg(left + 24 * cell, top_pad + 7 * cell, f"Incidents per hour of the week ({report.tz})", "".join(parts))


def texts(report: Report) -> dict[str, str]:
    """One sentence per chart saying what it shows, the charts' text alternative (keys as the charts')."""
    return {"outcomes": outcomes_text(report), "times": times_text(report), "hours": hours_text(report)}


def outcomes_text(report: Report) -> str:
    """``Of 7 incidents: Met 3 (42.9%), Late 1 (14.3%), …``."""
    if not report.total:
        return "No incidents in this range."
    parts = ", ".join(f"{SHORT.get(r.key, r.label)} {r.count} ({r.percent}%)" for r in report.outcomes)
    return f"Of {report.total} incidents: {parts}."


def times_text(report: Report) -> str:
    """How many answered callbacks fell in which minutes, and how many took longer than the promise."""
    bins, sla = report.callback_minutes, report.sla_minutes
    answered = sum(bins)
    if not answered:
        return "No answered callbacks in this range."
    within = [f"{n} in minute {i}–{i + 1}" for i, n in enumerate(bins[:sla]) if n]
    late = bins[sla]
    parts = ", ".join(within) if within else f"none within {sla} minutes"
    return f"{answered} answered callbacks: {parts}; {late} after more than {sla} minutes."


def hours_text(report: Report) -> str:
    """The busiest local hours and the hours with a breach."""
    busy = sorted((b for b in report.hours if b.incidents), key=lambda b: (-b.incidents, b.index))
    if not busy:
        return "No incidents in this range."
    top = ", ".join(f"{b.weekday} {b.hour:02d}:00 ({b.incidents})" for b in busy[:3])
    breached = [f"{b.weekday} {b.hour:02d}:00" for b in report.hours if b.breached]
    tail = f"; breaches in {', '.join(breached)}" if breached else "; no breaches"
    return f"Incidents in {len(busy)} of 168 hours; busiest {top}{tail}. The table below lists every busy hour."


def _svg(width: float, height: float, title: str, body: str) -> Markup:
    t = escape(title)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
                  f'role="img" aria-label="{t}" class="chart"><title>{t}</title>{body}</svg>')
