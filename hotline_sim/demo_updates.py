"""The second half of ``hotline demo`` (issue 11): interval agreed, an update, a proposal, the confirmation."""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import select

from app.models import CustomerUpdate, Delivery, FollowUp, Incident, ResolutionProposal
from app.services.update_numbers import update_number
from app.wiring import Hotline
from hotline_sim.backoffice import settle
from hotline_sim.network import PhoneNetwork


def expect_interval_key(rep, customer) -> None:
    """The rep's call: after the customer hangs up, press 1 (updates every 30 minutes), confirmed to the customer
    by SMS."""
    rep.expect_call(press=["2", "1"], ring_seconds=31)
    customer.expect_sms("as agreed, you will get an update every 30 minutes")


def tell_updates(hotline: Hotline, network: PhoneNetwork, clock, incident_id: int, rep_number: str,
                 customer_number: str) -> None:
    """Run and print: the reminder, the rep's SMS update, the proposal and the customer's YES."""
    with hotline.db.session() as session:
        incident = session.get(Incident, incident_id)
        follow_up = session.scalars(select(FollowUp).where(FollowUp.incident_id == incident_id)).one()
    ref = incident.reference
    rep, customer = network.phone(rep_number), network.phone(customer_number)
    rep.expect_sms("customer update 1 due", reply=f"UPDATE {ref} A storage node of the API cluster failed; "
                                                  "failover is running, expect recovery within the hour")
    rep.expect_sms(f"Update 1 for {ref} sent", reply=f"PROPOSE {ref} failover complete, error rate back to zero")
    rep.expect_sms("waiting for their answer")
    rep.expect_sms("the customer confirmed it is resolved")
    customer.expect_sms(f"Sev-1 {ref} update")
    customer.expect_sms("We believe your problem is resolved", reply=f"YES {ref}")
    customer.expect_sms(f"Incident {ref} is closed")

    click.secho(f"\n== 7. Updates every {follow_up.interval_minutes} minutes (agreed by {follow_up.agreed_via} "
                "at the end of the callback)", bold=True)
    clock.set(follow_up.next_due_at - timedelta(minutes=10))
    settle(hotline, network)
    clock.set(clock.now() + timedelta(seconds=1))  # the owner's SMS of the YES gives way to the pages' SMS rate
    settle(hotline, network)
    with hotline.db.session() as session:
        update = session.scalars(select(CustomerUpdate).where(CustomerUpdate.incident_id == incident_id)).one()
        number = update_number(session, incident_id, update.round)  # as the rep reads it
        deliveries = list(session.scalars(select(Delivery).where(Delivery.incident_id == incident_id)
                                          .order_by(Delivery.id)))
        proposal = session.scalars(select(ResolutionProposal).where(
            ResolutionProposal.incident_id == incident_id)).one()
        status = session.get(Incident, incident_id).status
    for body in rep.sms[1:]:
        click.echo(f"  rep's phone, SMS: {body}")
    for body in customer.sms[2:]:
        click.echo(f"  customer's phone, SMS: {body}")
    click.secho("\n== 8. Deliveries", bold=True)
    for d in deliveries:
        click.echo(f"  {d.purpose:<16} {d.channel:<5} to {d.recipient:<8} {d.status:<9} {d.last_error}")
    click.secho("\n== 9. Result", bold=True)
    when = "on time" if update.late_seconds == 0 else f"{update.late_seconds} s late"
    click.secho(f"  update {number or 'extra'} {when}; resolution {proposal.state} by {proposal.decided_via} "
                f"({proposal.agreed_by}); incident {status}", fg="green" if status == "resolved" else "red")
