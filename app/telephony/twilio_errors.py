"""Which of Twilio's REST error answers pass and which do not: the one table of Twilio error codes the seam reads.

Twilio's error answer is ``{"code", "message", "more_info", "status"}``; the HTTP status alone does not say
whether waiting helps. A 400 with code 21611 (the number's send queue is full) clears as the queue drains, and
a page refused with it must be sent again, not given up after one try (an outside probe saw the rep's SMS page
and the customer's receipt dropped that way). So the code decides first, the status after it.
Codes and what they mean are Twilio's error dictionary, https://www.twilio.com/docs/api/errors/<code>.
"""

from __future__ import annotations

from app.telephony.protocol import (
    UNSUBSCRIBED_RECIPIENT,
    OptedOut,
    OutcomeUnknown,
    Rejected,
    TelephonyError,
    Throttled,
)

# Refused for now, nothing created: the same request succeeds later, so it is sent again after the back-off.
REFUSED_FOR_NOW: dict[int, str] = {
    # 20429 "Too many requests": the account's concurrent REST requests; "never processed and always safe to retry"
    20429: "too many concurrent requests",
    # 21611 "This 'From' number has exceeded the maximum number of queued messages": the sender's queue holds 10 hours
    # of segments at its rate; "attempting to create additional messages" fails until it drains (HTTP 400)
    21611: "the number's send queue is full",
    # 14107 "SMS send rate limit exceeded": more than 30 messages between two numbers within 30 s; further messages
    # fail "for 30 seconds" (documented on the message's status, failed with this code, more than as a REST answer)
    14107: "too many messages to this number within 30 s",
    # 20003 "Authenticate" (HTTP 401) and 20005 "Account not active": the account refuses every request, not this
    # one: its auth token rotated under a running worker, or the account suspended for a while. Pages wait for the
    # credentials to work again (a worker restarted with the new token sends them if still wanted) while /healthz
    # says paging fails; until session 37 they failed for good: an outside probe's 40 s of 401 dropped the rep's
    # pages, the customer's receipt and a breach notice
    20003: "the account's credentials were refused",
    20005: "the account is not active",
}

# Twilio's own fault: it may have acted on the request, so the caller looks it up before sending again, whatever
# the HTTP status it came with. 20500 "Internal Server Error" ("an error in the server handling logic or a
# timeout": a POST retried blindly may send twice); 20503 "Service unavailable" ("temporarily unavailable").
SERVER_FAULT: dict[int, str] = {
    20500: "Twilio's internal error",
    20503: "Twilio's service unavailable",
}

# Refused for good (kept as Rejected, listed so that no one moves them by mistake): waiting changes nothing,
# the request, the number or the account must change. 21610 is OptedOut (the recipient texted STOP).
REFUSED_FOR_GOOD: dict[int, str] = {
    UNSUBSCRIBED_RECIPIENT: "the recipient texted STOP",
    20404: "no such resource",
    21211: "invalid 'To' number",
    21215: "geo permissions do not allow this call",
    21216: "the number may not be called",
    21408: "SMS to this region is not enabled",
    21612: "the 'To' number cannot be reached from the 'From' number",
    21614: "the 'To' number cannot receive SMS",
    13223: "invalid phone number format",
    13224: "invalid phone number",
}


def error_code(value: object) -> int | None:
    """Twilio's ``code`` as an int (it is a JSON number; a string of digits is taken too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def error_kind(status: int, code: int | None) -> type[TelephonyError]:
    """The seam's error for Twilio's answer ``status`` with error ``code``.

    The code first: 21610 OptedOut, a code refused for now Throttled, a server fault OutcomeUnknown. Then the
    status: 401 (the account, not the request) and 429 Throttled, any other 4xx Rejected, the rest (5xx) OutcomeUnknown. An unknown code on a 4xx stays
    Rejected: Twilio says the request itself is wrong, and sending it again every few seconds for an hour would
    only hold back the fall-back call and the escalation that a refused page sets off at once; a code found to
    pass belongs in ``REFUSED_FOR_NOW``.
    """
    if code == UNSUBSCRIBED_RECIPIENT:
        return OptedOut
    if code in REFUSED_FOR_NOW or status in (401, 429):  # 401: the account's credentials, whatever the code
        return Throttled
    if code in SERVER_FAULT:
        return OutcomeUnknown
    if 400 <= status < 500:
        return Rejected
    return OutcomeUnknown
