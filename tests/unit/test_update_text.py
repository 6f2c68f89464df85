"""Times in the customer's update messages: a next update on another day says which day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Incident, ProposalKind, ResolutionProposal
from app.services.update_text import due_text, proposal_sms


def test_a_next_update_later_today_is_a_time_and_one_tomorrow_carries_its_date():
    written = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    assert due_text(datetime(2026, 12, 3, 13, 0, tzinfo=UTC), "Europe/Berlin", written) == "14:00 CET"
    assert due_text(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), "Europe/Berlin", written) == "2026-12-04 10:00 CET"


def test_the_day_is_the_customers_own():
    written = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # 15:30 in Los Angeles, already the 4th in Berlin
    due = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert due_text(due, "America/Los_Angeles", written) == "18:00 PST"
    assert due_text(due, "Europe/Berlin", written) == "03:00 CET"
    assert due_text(due, "UTC", written) == "2026-12-04 02:00 UTC"  # in UTC it is already the next day


def test_a_german_customer_reads_the_next_update_time_as_their_receipt_says_it():
    """The receipt says "14:00 Uhr (MEZ)" to a German-speaking customer; their updates said "14:00 CET"."""
    from app.models import CustomerUpdate, Incident
    from app.services.update_text import update_email, update_sms

    written = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    incident = Incident(reference="123456", language="de-DE", callback_phone="+4915112345010", contact_name="Otto")
    update = CustomerUpdate(what_is_wrong="Ein Load-Balancer trennt Verbindungen", expected_resolution="",
                            workaround="", written_at=written)
    assert update_sms(incident, update, datetime(2026, 12, 3, 13, 0, tzinfo=UTC)).endswith(
        "Nächstes Update bis 14:00 Uhr (MEZ).")
    _, body = update_email(incident, update, datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    assert "Das nächste Update erhalten Sie bis morgen um 10:00 Uhr (MEZ)." in body
    english = Incident(reference="123456", language="en-US", callback_phone="+4915112345010", contact_name="Otto")
    assert update_sms(english, update, datetime(2026, 12, 3, 13, 0, tzinfo=UTC)).endswith("Next update by 14:00 CET.")


def test_a_summary_ending_in_a_full_stop_gets_no_second_one():
    # a probe's proposal SMS read "...API calls succeed again.. Reply YES"
    at = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)
    proposal = ResolutionProposal(kind=ProposalKind.RESOLVED, summary="Gateway restarted, API calls succeed again. ",
                                  proposed_at=at, expires_at=at + timedelta(hours=72))
    sms = proposal_sms(Incident(reference="723175", language="en-US"), proposal)
    assert "Gateway restarted, API calls succeed again. Reply YES 723175 to confirm" in sms and ".." not in sms
