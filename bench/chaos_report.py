"""The chaos run's table: per step kind, from the rows the hotline wrote and what Twilio accepted."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DueStep, Incident, IncidentEvent, Page
from bench.chaos_phones import Phones
from bench.common import percentile
from hotline_sim.twilio_api import SimulatedTwilio

PROMISE = 15.0


def kind_of(step: DueStep) -> str:
    return f"page L{step.level}" if step.kind == "page" else str(step.kind)


def report(engine, twilio: SimulatedTwilio, phones: Phones, ended: datetime,
           outages: list[tuple[datetime, datetime]]) -> tuple[str, int]:
    """The markdown table, and how many missed or unexplained duplicate pages there were.

    A page's lateness counts from its step's due time, or from Twilio answering again when
    the step fell due during an injected Twilio outage.
    """
    accepted: Counter = Counter()
    first_accept: dict[int, datetime] = {}
    for record in list(twilio.messages) + [c for c in twilio.calls if c.direction == "outbound-api"]:
        page = parse_qs(urlparse(record.status_callback).query).get("page")
        if page:
            pid = int(page[0])
            accepted[pid] += 1
            first_accept[pid] = min(first_accept.get(pid, record.date_created), record.date_created)
    with Session(engine) as s:
        steps = list(s.scalars(select(DueStep)))
        pages = list(s.scalars(select(Page)))
        flagged = {e.detail.get("page_id") for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "page_sent")) if e.detail.get("possible_duplicate")}
        incidents = s.scalar(select(Incident.id).order_by(Incident.id.desc()).limit(1)) or 0
    pages_by_step = defaultdict(list)
    for page in pages:
        pages_by_step[page.step_id].append(page)
    rows: dict[str, dict] = defaultdict(lambda: {"expected": 0, "fired": 0, "never": 0, "late": [], "page_late": [],
                                                 "dups": 0, "flagged": 0, "unsent": 0})
    for st in steps:
        if st.due_at > ended - timedelta(seconds=PROMISE):
            continue  # not due long enough before the end to be judged
        row = rows[kind_of(st)]
        row["expected"] += 1
        if st.status != "done":
            row["never"] += 1
            continue
        row["fired"] += 1
        row["late"].append((st.done_at - st.due_at).total_seconds())
        for page in pages_by_step[st.id]:
            if page.status == "canceled":
                continue
            if page.id not in first_accept:
                row["unsent"] += 1
                continue
            accepted_at = first_accept[page.id]
            since = max([st.due_at] + [end for begin, end in outages if begin < accepted_at and end > st.due_at])
            row["page_late"].append((accepted_at - since).total_seconds())
            if accepted[page.id] > 1:
                row["flagged" if page.id in flagged else "dups"] += accepted[page.id] - 1
    lines = [f"{incidents} incidents; webhook answers: " + ", ".join(f"{k}xx {v}" for k, v in
                                                                      sorted(phones.statuses.items())), "",
             "| step kind | expected | fired | never fired | lateness p50 / p95 / max (s) | pages | page not sent "
             "| page lateness p95 / max (s, from due or Twilio back) | duplicates (flagged possible / unexplained) |",
             "|---|---|---|---|---|---|---|---|---|"]
    bad = 0
    order = ["receipt", "page L0", "page L1", "page L2", "at_risk", "breach", "repage"]
    for kind in sorted(rows, key=lambda k: order.index(k) if k in order else 99):
        r = rows[kind]
        late, plate = r["late"], r["page_late"]
        lines.append(f"| {kind} | {r['expected']} | {r['fired']} | {r['never']} | "
                     f"{percentile(late, .5):.1f} / {percentile(late, .95):.1f} / {max(late, default=0):.1f} | "
                     f"{len(plate) + r['unsent']} | {r['unsent']} | "
                     f"{percentile(plate, .95):.1f} / {max(plate, default=0):.1f} | {r['flagged']} / {r['dups']} |")
        bad += r["never"] + r["unsent"] + r["dups"]
    return "\n".join(lines), bad
