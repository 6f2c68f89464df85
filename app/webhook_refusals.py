"""Twilio webhooks refused on their signature, counted in Redis for ``/healthz`` (every web process shares them).

A refused webhook is logged where it is refused (``app.voice.signature``), but an operator alerting on ``/healthz``
heard nothing: an outside probe's ``serve`` with a PUBLIC_BASE_URL other than the number's webhook URLs refused
every caller while ``/healthz`` said ``ok`` with no warning. Two kinds are counted, in a window that runs while
they go on: a signature valid for another address of this host (only a holder of the auth token makes one: the
setting is wrong, for certain; ``signed_for_another_url`` tries the request's Host and PUBLIC_BASE_URL's host, by
https and http), and a signature that matches no auth token for any address tried (a rotated token, an address
not tried, or a forger: the warning says "if Twilio sent them", and waits for a few). Unsigned requests are
scanners': not counted.
Counting never fails a request: Redis not answering is ``/healthz``'s own warning.

Once the cause is fixed, the warning must not go on saying every caller is refused for the 15 minutes the window
lasts (an outside probe's /healthz did, while every webhook since was accepted): it names the last refusal, and once
a signed webhook was accepted after it, says so instead. Accepted webhooks are every request, so noting them is
kept off Redis's back (``RefusalWatch``): a web process writes an acceptance only while a refusal is on record and
not yet followed by one, and learns of other processes' refusals by one read at most every ``RECHECK_SECONDS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from redis import Redis

if TYPE_CHECKING:
    from app.queue import JobQueue

log = logging.getLogger(__name__)

# QUEUE_NAME -> a hash: "<kind>:count", "<kind>:since", "<kind>:last" (Unix seconds) and "accepted" (the first
# signed webhook accepted after the last refusal a web process knew of)
KEY = "hotline:webhook-refusals:{}"
ACCEPTED = "accepted"
WINDOW_SECONDS = 900  # the hash expires this long after the last refusal (an acceptance never prolongs it)
# how stale a web process's idea of "no refusal on record" may be before an accepted webhook reads it again: another
# process's refusals are learnt of this late at most (this process's own at once), and a process with no refusal on
# record makes at most one Redis read per this many seconds for all the webhooks it accepts
RECHECK_SECONDS = 30
OTHER_URL, BAD_SIGNATURE = "other_url", "bad_signature"
WARN_AFTER = {OTHER_URL: 1, BAD_SIGNATURE: 3}  # a few forged requests are no news; one signed for elsewhere is

# counts and times only: /healthz answers anyone who can reach it (the web log names each request and the fix)
WARNINGS = {
    OTHER_URL: ("{count} Twilio webhook(s) refused since {since} (the last at {last}): signed for another address of this host than "
                "PUBLIC_BASE_URL, so Twilio calls an address this hotline does not answer as its own and every caller "
                "and SMS there is refused. Fix: make PUBLIC_BASE_URL and the number's webhook URLs the same https "
                "address, written alike (the web log names both; `hotline check` too)"),
    BAD_SIGNATURE: ("{count} webhooks whose X-Twilio-Signature matches no auth token refused since {since} (the last "
                    "at {last}): if Twilio sent them, TWILIO_AUTH_TOKEN is not the account's current auth token (rotated?), or the number's "
                    "webhook URLs are not PUBLIC_BASE_URL (`hotline check` compares them), and every caller is refused "
                    "(the web log names each)"),
}
# the same refusals once a signed webhook was accepted after the last of them: the cause looks fixed, callers get
# through; the line stays until the window ends, as a record, without claiming that every caller is refused
ACCEPTED_SINCE = {
    OTHER_URL: ("{count} Twilio webhook(s) signed for another address of this host than PUBLIC_BASE_URL refused since "
                "{since}, last at {last}; webhooks have been accepted since {accepted}: fixed, it seems (if the "
                "number's webhook URLs and PUBLIC_BASE_URL still differ, the web log names both). This warning ends "
                "15 minutes after the last refusal"),
    BAD_SIGNATURE: ("{count} webhooks whose X-Twilio-Signature matches no auth token refused since {since}, last at "
                    "{last}; webhooks have been accepted since {accepted}: callers get through again (if Twilio sent "
                    "the refused ones, TWILIO_AUTH_TOKEN or the webhook URLs were wrong then). This warning ends 15 "
                    "minutes after the last refusal"),
}


def note_refusal(redis: Redis, queue_name: str, kind: str, at: datetime, watch: RefusalWatch | None = None) -> None:
    """Count one refused webhook of ``kind`` at ``at``; never raises. ``watch``: this web process's, told at once
    (its next accepted webhook is written down as such)."""
    key = KEY.format(queue_name)
    if watch is not None:
        watch.refused(at)
    try:
        with redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, f"{kind}:count", 1)
            pipe.hsetnx(key, f"{kind}:since", _seconds(at))
            pipe.hset(key, f"{kind}:last", _seconds(at))
            pipe.expire(key, WINDOW_SECONDS)
            pipe.execute()
    except Exception as exc:  # noqa: BLE001 - the request is refused either way; /healthz says Redis is down
        log.debug("refused webhook not counted: %s", exc)


class RefusalWatch:
    """One web process's view of whether a refusal is on record that no accepted webhook has answered yet, so that
    an accepted webhook costs no Redis round trip in the normal case.

    While no refusal is known, an accepted webhook reads the hash (one HMGET) only when the last read is over
    ``RECHECK_SECONDS`` old; while one is known (this process refused it, or a read found it), the accepted webhook
    writes ``accepted`` (one HSET) and the watch forgets it. Threads of one process share it: a race costs at most a
    second read or write, never a wrong word (the reader compares times)."""

    def __init__(self) -> None:
        self._pending: datetime | None = None  # the last refusal known, not yet followed by an accepted webhook
        self._read_at: datetime | None = None  # when the hash was last read (None: never)

    def refused(self, at: datetime) -> None:
        """This process refused a webhook at ``at``."""
        self._pending = max(at, self._pending) if self._pending is not None else at

    def accepted(self, jobs: JobQueue, at: datetime) -> None:
        """A signed webhook was accepted at ``at``: written down only if a refusal is on record before it; never
        raises, and never waits on a Redis that failed moments ago (``jobs.pause``: the webhook's own hand-over
        rule); an acceptance not written leaves the warning as it was."""
        if jobs.pause.active():
            return
        try:
            if self._pending is None and (self._read_at is None or at - self._read_at >= _RECHECK):
                self._read_at = at
                self._pending = _unanswered(jobs.redis, jobs.name)
            pending, self._pending = self._pending, None
            if pending is not None and pending <= at:
                jobs.redis.hset(KEY.format(jobs.name), ACCEPTED, _seconds(at))
        except Exception as exc:  # noqa: BLE001 - the request is served either way; /healthz says Redis is down
            jobs.pause.failed()
            log.debug("accepted webhook not noted: %s", exc)


_RECHECK = timedelta(seconds=RECHECK_SECONDS)


def _seconds(at: datetime) -> str:
    return f"{at.timestamp():.0f}"


def _unanswered(redis: Redis, queue_name: str) -> datetime | None:
    """The last refusal on record when no accepted webhook is written down after it, else None."""
    values = redis.hmget(KEY.format(queue_name), [f"{kind}:last" for kind in WARN_AFTER] + [ACCEPTED])
    *lasts, accepted = (int(v) if v else None for v in values)
    last = max((t for t in lasts if t is not None), default=None)
    if last is None or (accepted is not None and accepted >= last):
        return None
    return datetime.fromtimestamp(last, UTC)


@dataclass(frozen=True)
class Refused:
    """Webhooks of one kind refused in the window, enough to be news; ``accepted_since``: a signed webhook was
    accepted after the last of them (None: none yet, as far as the hotline knows)."""

    kind: str
    count: int
    since: datetime
    last: datetime
    accepted_since: datetime | None = None


def refused_lately(redis: Redis, queue_name: str) -> list[Refused]:
    """Each kind refused often enough in the window (raises as Redis does: the caller's to catch)."""
    found = {name.decode(): value.decode() for name, value in redis.hgetall(KEY.format(queue_name)).items()}
    counts = {kind: int(found.get(f"{kind}:count", 0)) for kind in WARN_AFTER}
    accepted = int(found[ACCEPTED]) if found.get(ACCEPTED) else None
    out = []
    for kind in WARN_AFTER:
        if counts[kind] < WARN_AFTER[kind]:
            continue
        since = int(found.get(f"{kind}:since", 0))
        last = int(found.get(f"{kind}:last") or since)  # a hash written before "last" was kept: its first
        out.append(Refused(kind, counts[kind], _instant(since), _instant(last),
                           _instant(accepted) if accepted is not None and accepted >= last else None))
    return out


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def refusal_warnings(redis: Redis, queue_name: str) -> list[str]:
    """``/healthz``'s warning for each kind refused often enough in the window: while no webhook was accepted after
    the last refusal, that callers are refused; after, since when webhooks are accepted again."""
    lines = []
    for r in refused_lately(redis, queue_name):  # the last refusal named too: a warning no longer growing shows it
        words = WARNINGS[r.kind] if r.accepted_since is None else ACCEPTED_SINCE[r.kind]
        lines.append(words.format(count=r.count, since=f"{r.since:%Y-%m-%d %H:%M:%S} UTC", last=f"{r.last:%H:%M:%S}",
                                  accepted=f"{r.accepted_since:%H:%M:%S}" if r.accepted_since else ""))
    return lines
