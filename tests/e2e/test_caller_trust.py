"""Issue 9, rows 1 and 3, through signed webhooks: no caller learns a customer's data; floods stay small."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Account, DueStep, Incident, IncidentEvent, MissedCall, Notice, Rep
from app.services import missed_calls
from app.services.api_tokens import create_token
from app.services.events import events_of
from ivr_flows.prompts import say_digits

VICTIM = "+14155550142"  # the contact's phone on the ticket (and the number an attacker spoofs)
ATTACKER = "+14155550166"
BIGCORP = {"number": "777001", "company": "BigCorp Inc", "contact_name": "Victor Victim",
           "contact_email": "victor.victim@bigcorp.example", "contact_phone": VICTIM}
# Another customer's ticket that lists the victim's phone as its contact's (customers fill these in).
EVIL = {"number": "888001", "company": "Evil Corp", "contact_name": "Mallory", "contact_email": "m@evil.example",
        "contact_phone": VICTIM, "support_pin": "1111"}
# Anything of the ticket a caller must not hear: names, e-mail (spoken), the phone in spoken groups.
SECRETS = ("BigCorp", "Victor", "Victim", "victor dot victim", "bigcorp dot example", "5 5 5, 0 1 4 2")


@pytest.fixture
def settings(settings):
    """A low outbound alert threshold, so the flood test shows the managers' alert."""
    return settings.with_overrides(outbound_alert_per_hour=20)


@pytest.fixture
def api(client, hotline):
    """POST to the JSON API with a helpdesk token that may also set support PINs (accounts:admin)."""
    with hotline.db.transaction() as s:
        token = create_token(s, "helpdesk", hotline.clock.now(), scopes=["tickets:write", "accounts:admin"])

    def post(path: str, body: dict):
        return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    return post


@pytest.fixture
def bigcorp(api):
    """BigCorp's ticket, pushed through the API as the helpdesk does."""
    assert api("/api/v1/tickets", BIGCORP).status_code in (200, 201)


class Heard:
    """Every line a simulated caller heard."""

    def __init__(self, call) -> None:
        self.call, self.lines = call, []

    def __call__(self, prompt) -> str:
        self.lines += prompt.said
        return " ".join(prompt.said)

    def leaks(self, *, own_caller_id: bool = False) -> list[str]:
        """Ticket data heard; a spoofed caller ID read back for the callback is the caller's own input."""
        text = " ".join(self.lines)
        return [s for s in SECRETS if s.lower() in text.lower() and not (own_caller_id and s == SECRETS[-1])]


def _report(call, heard: Heard, company: str, name: str, ticket: str = "") -> str:
    """From triage on: API down, an optional keyed ticket, spoken details, the caller ID for the callback."""
    heard(call.press("1"))  # API calls failing
    if ticket and "support PIN" in heard(call.press(ticket)):
        heard(call.press("#"))  # no PIN to hand: go on without
    elif not ticket:
        heard(call.press("#"))
    heard(call.say(company))
    prompt = call.say(name)
    heard(prompt)
    if "enter the number" in " ".join(prompt.said):
        heard(call.press("14155550166"))
    heard(call.press("1"))  # yes, that number
    heard(call.say("mallory at evil dot example"))
    heard(call.press("1"))
    heard(call.say("Every API call fails with a 500 since two a.m."))
    heard(call.record(seconds=5))
    return heard(call.press("1"))


def _report_with_pin(call, ticket: str, pin: str) -> str:
    """From triage on: API down, the keyed ticket and its PIN, then yes to everything the ticket knows."""
    call.press("1")
    assert "support PIN" in " ".join(call.press(ticket).said)
    assert "PIN is correct" in " ".join(call.press(pin).said)
    for _ in range(4):  # company, name, callback number, e-mail: all confirmed
        call.press("1")
    call.say("Every API call fails with a 500 since two a.m.")
    call.record(seconds=5)
    return " ".join(call.press("1").said)


def _incidents(hotline) -> list[Incident]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Incident).order_by(Incident.id)))


def _event(hotline, incident: Incident, kind: str) -> list[IncidentEvent]:
    with hotline.db.session() as s:
        return [e for e in events_of(s, incident) if e.kind == kind]


# ---------------------------------------------------------------- row 1


def test_withheld_caller_who_keys_the_ticket_number_hears_nothing_from_the_ticket(phone, hotline, bigcorp):
    call = phone("anonymous")
    heard = Heard(call)
    heard(call.dial())
    heard(call.press("1"))
    done = _report(call, heard, "Evil Corp", "Mallory", ticket=BIGCORP["number"])
    assert "found ticket" in " ".join(heard.lines)
    assert heard.leaks() == [], heard.lines
    [incident] = _incidents(hotline)
    assert say_digits(incident.reference) in done  # their own new incident's reference is theirs to hear
    # The ticket is linked silently; the rep sees that what was said does not match it.
    assert incident.ticket_number == BIGCORP["number"] and incident.ticket_id is not None
    assert incident.caller_verified == ""
    [check] = _event(hotline, incident, "caller_details_checked")
    assert check.detail["verified"] == "no"
    assert (check.detail["company"], check.detail["contact_name"], check.detail["email"]) == (
        "differs", "differs", "differs")


def test_spoofed_caller_id_hears_no_reference_and_cannot_add_to_the_open_incident(phone, hotline, bigcorp):
    victim = phone(VICTIM)
    victim.dial()
    victim.press("1")
    _report(victim, Heard(victim), "BigCorp", "Victor Victim")
    [original] = _incidents(hotline)

    spoof = phone(VICTIM)
    heard = Heard(spoof)
    heard(spoof.dial())
    status = heard(spoof.press("1"))
    assert "open incident" in status and say_digits(original.reference) not in status
    assert "six-digit reference number" in heard(spoof.press("1"))  # "add information"
    assert "doesn't match" in heard(spoof.press("000000"))
    new = heard(spoof.press("111111"))
    assert "new incident" in new and "link it" in new
    _report(spoof, heard, "Evil Corp", "Mallory")
    assert say_digits(original.reference) not in " ".join(heard.lines)
    assert heard.leaks(own_caller_id=True) == [], heard.lines
    assert _event(hotline, original, "information_added") == []
    first, second = _incidents(hotline)
    assert first.id == original.id and second.related_incident_id == original.id
    assert [e.detail["reference"] for e in _event(hotline, original, "possibly_related")] == [second.reference]
    assert [e.detail["ok"] for e in _event(hotline, second, "support_pin_checked")] == [False, False]


def test_spoofed_caller_id_of_a_ticket_contact_is_not_offered_the_ticket(phone, hotline, bigcorp):
    call = phone(VICTIM)
    heard = Heard(call)
    heard(call.dial())
    heard(call.press("1"))
    _report(call, heard, "Evil Corp", "Mallory")
    spoken = " ".join(heard.lines)
    assert "7, 7, 7, 0, 0, 1" not in spoken and "BigCorp" not in spoken and "Victor" not in spoken
    [incident] = _incidents(hotline)
    assert incident.ticket_number == BIGCORP["number"] and incident.ticket_match == "caller_id"  # linked silently


def test_a_caller_with_the_support_pin_is_offered_what_the_ticket_knows(phone, hotline, api):
    assert api("/api/v1/tickets", BIGCORP | {"support_pin": "424242"}).status_code in (200, 201)
    with hotline.db.session() as s:
        stored = s.scalar(select(Account.support_pin_hash).where(Account.name == "BigCorp Inc"))
    assert stored.startswith("scrypt$") and "424242" not in stored
    call = phone("anonymous")
    call.dial()
    call.press("1")
    call.press("1")
    assert "support PIN" in " ".join(call.press(BIGCORP["number"]).said)
    wrong = call.press("111111")
    assert "not correct" in " ".join(wrong.said) and "support PIN" in " ".join(wrong.said)
    offer = call.press("424242")
    assert "Is this about BigCorp Inc?" in " ".join(offer.said)
    with hotline.db.session() as s:
        logged = " ".join(str(e.detail) for e in s.scalars(select(IncidentEvent)))
    assert "424242" not in logged and "111111" not in logged


def test_repeat_caller_with_the_pin_may_add_to_their_incident(phone, hotline, api):
    assert api("/api/v1/tickets", BIGCORP | {"support_pin": "424242"}).status_code in (200, 201)
    victim = phone(VICTIM)
    victim.dial()
    victim.press("1")
    _report_with_pin(victim, BIGCORP["number"], "424242")  # the ticket linked with proof
    [incident] = _incidents(hotline)
    assert (incident.ticket_match, incident.caller_verified) == ("keypad", "pin")
    again = phone(VICTIM)
    again.dial()
    again.press("1")
    again.press("1")
    assert "PIN is correct" in " ".join(again.press("424242").said)
    again.say("The SMTP relay fails too.")
    done = again.record(seconds=3)
    assert say_digits(incident.reference) in " ".join(done.said)
    assert [e.detail["text"] for e in _event(hotline, incident, "information_added")] == ["The SMTP relay fails too."]
    with hotline.db.session() as s:
        checks = [e.detail for e in s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "support_pin_checked"))]
    assert [c for c in checks if c["for"] == "incident"] == [
        {"ok": True, "account_has_pin": True, "for": "incident", "ticket_proven": True}]


def test_a_ticket_the_helpdesk_moves_to_another_account_takes_no_pin_of_that_account(phone, hotline, api, client):
    # The victim keys their ticket and proves it with BigCorp's PIN; the helpdesk's token (tickets:write only) then
    # moves the ticket to Evil Corp, whose PIN a customer of Evil Corp knows.
    assert api("/api/v1/tickets", BIGCORP | {"support_pin": "424242"}).status_code in (200, 201)
    assert api("/api/v1/tickets", EVIL).status_code in (200, 201)
    victim = phone(VICTIM)
    victim.dial()
    victim.press("1")
    _report_with_pin(victim, BIGCORP["number"], "424242")
    [incident] = _incidents(hotline)
    with hotline.db.transaction() as s:
        token = create_token(s, "helpdesk sync", hotline.clock.now(), scopes=["tickets:write"])
    moved = client.post("/api/v1/tickets", json={"number": BIGCORP["number"], "company": EVIL["company"]},
                        headers={"Authorization": f"Bearer {token}"})
    assert moved.status_code == 200 and moved.json["company"] == EVIL["company"]
    # From a number of their own, the attacker keys the victim's ticket and Evil Corp's PIN: right for the ticket as
    # it is now, but the victim's incident was proved with BigCorp's PIN, so it is neither named nor theirs to add to.
    attacker = phone(ATTACKER)
    heard = Heard(attacker)
    heard(attacker.dial())
    heard(attacker.press("1"))
    heard(attacker.press("3"))
    assert "support PIN" in heard(attacker.press(BIGCORP["number"]))
    assert "PIN is correct" in heard(attacker.press(EVIL["support_pin"]))
    assert "open incident" not in " ".join(heard.lines) and say_digits(incident.reference) not in " ".join(heard.lines)
    # Spoofing the victim's caller ID, the same PIN proves nothing on the incident either.
    spoofed, new = _spoof_with_pin(phone, EVIL["support_pin"])
    assert "new incident" in new and say_digits(incident.reference) not in " ".join(spoofed.lines)
    assert _event(hotline, incident, "information_added") == []
    # The PIN the victim proved the ticket with still proves them on their incident.
    again = phone(VICTIM)
    again.dial()
    again.press("1")
    again.press("1")
    assert "PIN is correct" in " ".join(again.press("424242").said)


def test_a_stranger_who_keys_the_ticket_number_learns_nothing_and_hides_no_incident(phone, hotline, api):
    assert api("/api/v1/tickets", BIGCORP | {"support_pin": "424242"}).status_code in (200, 201)
    victim = phone(VICTIM)
    victim.dial()
    victim.press("1")
    _report_with_pin(victim, BIGCORP["number"], "424242")
    [theirs] = _incidents(hotline)
    # A stranger keys the ticket number (helpdesk numbers are guessable): asked for the PIN, not told of the
    # incident; without the PIN they report anyway, and their incident is linked to it, unnamed.
    stranger = phone(ATTACKER)
    heard = Heard(stranger)
    heard(stranger.dial())
    heard(stranger.press("1"))
    heard(stranger.press("1"))
    assert "support PIN" in heard(stranger.press(BIGCORP["number"]))
    heard(stranger.press("#"))  # no PIN
    heard(stranger.say("Evil Corp"))
    heard(stranger.say("Mallory"))
    heard(stranger.press("1"))
    heard(stranger.say("mallory at evil dot example"))
    heard(stranger.press("1"))
    heard(stranger.say("Nothing works."))
    heard(stranger.record(seconds=3))
    heard(stranger.press("1"))
    assert "open incident" not in " ".join(heard.lines) and say_digits(theirs.reference) not in " ".join(heard.lines)
    _theirs, strangers = _incidents(hotline)
    assert strangers.ticket_number == BIGCORP["number"] and strangers.related_incident_id == theirs.id
    # The customer, from another phone, keys the ticket and their PIN: their own incident, not the newer one.
    colleague = phone("+14155550188")
    colleague.dial()
    colleague.press("1")
    colleague.press("1")
    colleague.press(BIGCORP["number"])
    proven = " ".join(colleague.press("424242").said)
    assert "PIN is correct" in proven and say_digits(theirs.reference) in proven
    assert say_digits(strangers.reference) not in proven


def _spoof_with_pin(phone, pin: str) -> tuple[Heard, str]:
    """A caller with the victim's caller ID asks to add to the open incident and keys ``pin`` twice."""
    spoof = phone(VICTIM)
    heard = Heard(spoof)
    heard(spoof.dial())
    assert "open incident" in heard(spoof.press("1"))
    assert "six-digit reference number" in heard(spoof.press("1"))
    assert "doesn't match" in heard(spoof.press(pin))
    return heard, heard(spoof.press(pin))


def test_a_phone_listed_by_tickets_of_two_accounts_links_no_ticket(phone, hotline, api, clock):
    # The audit's case: the victim's ticket, then another customer's listing the victim's phone.
    assert api("/api/v1/tickets", BIGCORP | {"support_pin": "424242"}).status_code in (200, 201)
    clock.advance(minutes=5)
    assert api("/api/v1/tickets", EVIL).status_code in (200, 201)
    victim = phone(VICTIM)
    victim.dial()
    victim.press("1")
    _report(victim, Heard(victim), "BigCorp", "Victor Victim")
    [incident] = _incidents(hotline)
    assert (incident.ticket_id, incident.ticket_number, incident.ticket_match) == (None, "", "none")
    [check] = _event(hotline, incident, "caller_details_checked")
    assert check.detail["ticket"] == "nothing_on_file"
    # The other customer spoofs the victim's number and keys their own account's PIN: no proof.
    heard, new = _spoof_with_pin(phone, EVIL["support_pin"])
    assert "new incident" in new and say_digits(incident.reference) not in " ".join(heard.lines)
    assert _event(hotline, incident, "information_added") == []


def test_the_pin_of_a_caller_id_linked_tickets_account_proves_nothing(phone, hotline, api):
    # Only the other customer's ticket lists the victim's phone: the victim's report is linked to it
    # silently, and that customer's PIN must still not open the victim's incident.
    assert api("/api/v1/tickets", EVIL).status_code in (200, 201)
    victim = phone(VICTIM)
    victim.dial()
    victim.press("1")
    _report(victim, Heard(victim), "BigCorp", "Victor Victim")
    [incident] = _incidents(hotline)
    assert (incident.ticket_number, incident.ticket_match) == (EVIL["number"], "caller_id")
    heard, new = _spoof_with_pin(phone, EVIL["support_pin"])
    assert "new incident" in new and "link it" in new
    assert say_digits(incident.reference) not in " ".join(heard.lines) and "PIN is correct" not in heard.lines
    assert _event(hotline, incident, "information_added") == []
    with hotline.db.session() as s:
        checks = [e.detail for e in s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "support_pin_checked"))]
        evil = s.scalar(select(Account).where(Account.name == EVIL["company"]))
        assert evil.support_pin_failures == 0  # not checked against that account at all
    assert checks == [{"ok": False, "account_has_pin": False, "for": "incident", "ticket_proven": False}] * 2


def test_a_ticket_keyed_without_its_pin_takes_the_reference_but_not_the_pin(phone, hotline, api):
    assert api("/api/v1/tickets", BIGCORP | {"support_pin": "424242"}).status_code in (200, 201)
    first = phone(VICTIM)
    first.dial()
    first.press("1")
    _report(first, Heard(first), "BigCorp", "Victor Victim", ticket=BIGCORP["number"])  # "#" at the PIN
    [incident] = _incidents(hotline)
    assert (incident.ticket_match, incident.caller_verified) == ("keypad", "")
    again = phone(VICTIM)
    again.dial()
    again.press("1")
    again.press("1")
    assert "doesn't match" in " ".join(again.press("424242").said)  # keying a number is no proof
    assert "thank you" in " ".join(again.press(incident.reference).said).lower()
    again.say("The SMTP relay fails too.")
    again.record(seconds=3)
    assert [e.detail["text"] for e in _event(hotline, incident, "information_added")] == ["The SMTP relay fails too."]


# ---------------------------------------------------------------- row 3


def test_thirty_hang_ups_at_the_greeting_page_nobody_and_send_one_sms_each(phone, hotline):
    with hotline.db.transaction() as s:
        s.add(Rep(name="Maria", phone="+14155550133", is_manager=True))
    callers = [f"+1415555{2000 + n:04d}" for n in range(30)]
    for number in callers:
        call = phone(number)
        call.dial()
        call.hang_up()
    again = phone(callers[0])  # the same number hangs up again: no second SMS
    again.dial()
    again.hang_up()
    assert _incidents(hotline) == []
    with hotline.db.session() as s:
        assert s.scalars(select(DueStep)).all() == []
        assert len(s.scalars(select(MissedCall)).all()) == 31
        invitations = s.scalars(select(Notice).where(Notice.purpose == "missed_call")).all()
        alerts = s.scalars(select(Notice).where(Notice.purpose == "outbound_volume")).all()
    assert sorted(n.to_number for n in invitations) == sorted(callers)
    assert "call us again" in invitations[0].body
    assert [a.to_number for a in alerts] == ["+14155550133"]  # the managers hear once, above the threshold
    assert hotline.jobs.page_queue.fetch_job(f"notice-{invitations[0].id}") is not None


def test_hang_ups_from_ever_new_numbers_send_at_most_the_hourly_sms_limit(phone, hotline, clock, monkeypatch):
    # SMS pumping: each spoofed caller ID that hangs up at the greeting is a new number, so the per-number limit
    # alone sent one SMS per call, to numbers of the caller's choosing.
    monkeypatch.setattr(missed_calls, "MISSED_CALL_SMS_PER_HOUR", 5)
    callers = [f"+1415555{3000 + n:04d}" for n in range(8)]
    for number in callers:
        call = phone(number)
        call.dial()
        call.hang_up()
    with hotline.db.session() as s:
        assert len(s.scalars(select(MissedCall)).all()) == 8  # every one is on the board
        invited = [n.to_number for n in s.scalars(select(Notice).where(Notice.purpose == "missed_call")
                                                  .order_by(Notice.id))]
        held = [e.detail.get("sms_held") for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.kind == "missed_call").order_by(IncidentEvent.id))]
    assert invited == callers[:5]
    assert held == [None] * 5 + ["hourly"] * 3
    clock.advance(minutes=61)  # an hour later the next caller is invited again
    late = phone("+14155553100")
    late.dial()
    late.hang_up()
    with hotline.db.session() as s:
        assert s.scalars(select(Notice.to_number).where(Notice.purpose == "missed_call")
                         .order_by(Notice.id.desc())).first() == "+14155553100"


def test_the_same_caller_id_five_times_opens_at_most_the_limit_and_the_rest_join(phone, hotline, clock):
    closings = []
    for n in range(5):
        clock.advance(minutes=1)
        call = phone(ATTACKER)
        call.dial()
        menu = call.press("1")
        if "open incident" in " ".join(menu.said):
            call.press("2")  # "a different outage"
        closings.append(_report(call, Heard(call), f"Company {n}", "Sam"))
    incidents = _incidents(hotline)
    assert len(incidents) == 3  # MAX_INCIDENTS_PER_CALLER
    assert "added your report to the open incident" in closings[3] and "added your report" in closings[4]
    assert all(say_digits(i.reference) not in closings[3] + closings[4] for i in incidents)
    newest = incidents[-1]
    joined = _event(hotline, newest, "report_joined")
    assert [e.detail["company"] for e in joined] == ["Company 3", "Company 4"]


def test_a_repeat_caller_who_hangs_up_joins_their_open_incident(phone, hotline):
    first = phone(ATTACKER)
    first.dial()
    first.press("1")
    _report(first, Heard(first), "Acme", "Sam")
    for _ in range(3):
        call = phone(ATTACKER)
        call.dial()
        call.press("1")
        call.hang_up()
    [incident] = _incidents(hotline)
    assert len(_event(hotline, incident, "repeat_call_ended")) == 3


def test_missed_calls_are_listed_for_the_reps(phone, hotline, client):
    from app.auth import Role
    from tests.integration.board_support import login_as

    call = phone("+14155550177")
    call.dial()
    call.hang_up()
    login_as(client, hotline, Role.REP)
    page = client.get("/missed-calls")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="missed-calls"' in html and "+14155550177" in html and "queued" in html
    assert "Missed calls" in client.get("/board").get_data(as_text=True)


def test_the_rep_sees_on_the_incident_page_that_the_caller_was_not_verified(phone, hotline, bigcorp, client):
    from app.auth import Role
    from tests.integration.board_support import login_as

    call = phone("anonymous")
    call.dial()
    call.press("1")
    _report(call, Heard(call), "Evil Corp", "Mallory", ticket=BIGCORP["number"])
    [incident] = _incidents(hotline)
    login_as(client, hotline, Role.REP)
    html = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "NOT verified" in html and "company differs" in html and "name differs" in html
    with hotline.db.transaction() as s:
        token = create_token(s, "reader", hotline.clock.now(), scopes=["incidents:read"])
    body = client.get(f"/api/v1/incidents/{incident.reference}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["caller_verified"] == "no"
    [checked] = [e for e in body["events"] if e["kind"] == "caller_details_checked"]
    assert checked["detail"]["company"] == "differs"


@pytest.mark.parametrize("withheld", ["+266696687", "+86282452253", "+8656696", "+2562533", "+7378742833"])
def test_a_withheld_caller_id_of_twilios_is_no_number_the_next_anonymous_caller_shares(phone, hotline, withheld):
    """Twilio's stand-ins for a withheld caller ID parse as numbers: an outside probe's second anonymous caller heard
    "There is an open incident for the number you are calling from" (the first anonymous caller's), could add to it,
    and was linked to another company's incident."""
    first = phone(withheld)
    heard = Heard(first)
    heard(first.dial())
    heard(first.press("1"))
    _report(first, heard, "Hooli", "Gavin")
    second = phone(withheld)
    second.dial()
    asked = " ".join(second.press("1").said)
    assert "open incident" not in asked and "e-mail sending" in asked.lower(), asked  # straight to triage
    _report(second, Heard(second), "Pied Piper", "Richard")
    hooli, pied_piper = _incidents(hotline)
    assert (hooli.company, pied_piper.company) == ("Hooli", "Pied Piper")
    assert pied_piper.related_incident_id is None and _event(hotline, pied_piper, "possibly_related") == []


def _report_to_extension(call, name: str, keys: str) -> str:
    """From the greeting on: an API outage, no ticket, "Acme Switch", ``name``, another number keyed (``keys``:
    the switchboard, '*' and an extension), its e-mail and description; what the caller hears at the end."""
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Acme Switch")
    call.say(name)
    call.press("2")  # not the number I call from
    assert "extension" in " ".join(call.press(keys).said)
    call.press("1")  # yes, that number and extension
    call.say(f"{name.split()[0].lower()} at acme dot example")
    call.press("1")
    call.say("Every API call fails with a 500.")
    call.record(seconds=5)
    return " ".join(call.press("1").said)


def test_colleagues_calling_back_on_one_switchboard_with_their_own_extensions_each_get_an_incident(phone, hotline,
                                                                                                   clock):
    """An outside probe's fourth colleague within the hour (each from their own mobile, each giving the switchboard
    and their own extension) was folded into the third's incident as its own contact: no reference, no callback of
    theirs, nobody told to call extension 104. Another extension is another person: an incident of their own."""
    heard = []
    for n in range(1, 6):
        clock.advance(minutes=1)
        heard.append(_report_to_extension(phone(f"+1650555700{n}"), f"Colleague {n}", f"4155552700*10{n}#"))
    incidents = _incidents(hotline)
    assert [i.contact_name for i in incidents] == [f"Colleague {n}" for n in range(1, 6)]
    assert all(say_digits(i.reference) in said for i, said in zip(incidents, heard, strict=True))
    assert [i.related_incident_id for i in incidents[3:]] == [incidents[2].id, incidents[3].id]  # apart, linked
    # the same colleague again (their extension): over the limit, their report joins their own incident
    clock.advance(minutes=1)
    again = _report_to_extension(phone("+16505557009"), "Colleague 2", "4155552700*102#")
    assert "added your report to the open incident" in again and len(_incidents(hotline)) == 5
    [joined] = _event(hotline, incidents[1], "report_joined")
    assert joined.detail["contact_differs"] is False
