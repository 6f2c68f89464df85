"""An incident whose company was never captured (a rescued call, an e-mail-only caller) is named to a rep the same
way in every text they read: "unknown company", as in its page, never an empty name ("SEV1 123456 : ...")."""

from __future__ import annotations

from sqlalchemy import update

from app.models import Incident
from tests.paging.conftest import ALICE, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.updates.test_customer_sms import _called_back, _propose, _text_hotline
from tests.updates.test_rep_clock_updates import alice_reaches_an_email_only_caller


def test_the_update_reminder_and_the_late_alert_name_an_unknown_company_as_the_page_does(desk, network, smtp):
    alice, maria = network.phone(ALICE), network.phone(MARIA)
    alice.expect_sms("SEV1").expect_call(answer=False)
    ref = alice_reaches_an_email_only_caller(desk)
    assert alice.sms[0].startswith(f"SEV1 {ref} unknown company: ")  # the page, before the ACK's answer
    desk.at(minutes=5)
    assert "every 2 hours" in _sms_from(desk, ALICE, f"EVERY 2 hours {ref}").get_data(as_text=True)
    alice.expect_sms("customer update 1 due by")
    desk.at(minutes=115)
    maria.expect_sms("customer update 1 was due")
    desk.at(minutes=125)
    assert alice.unmet == [] and maria.unmet == []
    assert alice.sms[-1].startswith(f"SEV1 {ref} unknown company: customer update 1 due by ")
    assert maria.sms[-1].startswith(f"SEV1 {ref} unknown company: customer update 1 was due ")


def test_the_owner_told_of_a_customers_text_reads_unknown_company_as_in_the_page(desk, network, smtp):
    incident, customer = _called_back(desk, network)
    ref = incident.reference
    with desk.hotline.db.transaction() as session:  # a caller who hung up before giving the company
        session.execute(update(Incident).where(Incident.id == incident.id).values(company=""))
    customer.expect_sms("We believe your problem is resolved")
    _propose(desk, ref, "API healthy again")
    alice = network.phone(ALICE).expect_sms("the customer texted: Not fixed")
    _text_hotline(desk, "Not fixed")
    desk.settle()
    assert alice.sms[-1] == f"SEV1 {ref} unknown company: the customer texted: Not fixed"
