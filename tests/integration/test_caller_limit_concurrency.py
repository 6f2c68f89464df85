"""The per-number limit on new incidents holds when the calls of one number hang up at the same moment.

``place_report`` counted the number's incidents, then the rescue inserted one: hang-ups running at once each read
the same count and each opened an incident (an outside probe's ten calls from one number, hanging up together after
triage, opened eight under a limit of three: one per thread of the serve). Each hang-up here is Twilio's status
callback through the Flask app on its own thread, with its own database connection, released together.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.models import Incident, IncidentEvent
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

CALLER = "+17735550177"
AT_ONCE = 8


def _at_the_ticket_prompt(app, caller: str) -> SimulatedCall:
    """A call from ``caller`` that chose English and "API calls failing", now asked for its ticket number."""
    call = SimulatedCall(transport=flask_transport(app.test_client()), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=caller)
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    return call


def _hang_up_together(calls: list[SimulatedCall]) -> list[int]:
    start, codes = threading.Barrier(len(calls)), [0] * len(calls)

    def hang_up(n: int) -> None:
        start.wait()
        codes[n] = calls[n].hang_up()

    threads = [threading.Thread(target=hang_up, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_hang_ups_of_one_number_at_the_same_moment_open_no_more_incidents_than_its_limit(app, hotline):
    limit = hotline.settings.max_incidents_per_caller
    calls = [_at_the_ticket_prompt(app, CALLER) for _ in range(AT_ONCE)]
    assert _hang_up_together(calls) == [200] * AT_ONCE
    with hotline.db.session() as s:
        opened = s.scalar(select(func.count(Incident.id)).where(Incident.caller_id == CALLER))
        joined = s.scalar(select(func.count(IncidentEvent.id)).where(IncidentEvent.kind == "call_joined"))
    assert (opened, joined) == (limit, AT_ONCE - limit)  # the rest join an open one, as one after another do
