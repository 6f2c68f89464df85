"""The per-network login limit holds when many failed logins from one network run at the same moment.

The limit was counted, then the failure inserted: requests running at once each read the same count, each
passed, and the network got twenty failures plus as many as ran together. Each request here is a real POST
through the login form on its own thread, with its own database connection from the pool.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.models.user import LoginAttempt
from app.services.login_limits import ADDRESS_MAX_FAILURES
from tests.integration.dashboard_support import csrf_token_of

NETWORK = "203.0.113.9"
AT_ONCE = 24


def _attempt(client, email: str):
    return client.post("/login", data={"csrf_token": csrf_token_of(client), "email": email,
                                       "password": "wrong password 123"}, environ_base={"REMOTE_ADDR": NETWORK})


def test_failed_logins_from_one_network_at_once_never_exceed_its_limit(app, hotline):
    client = app.test_client()
    for n in range(ADDRESS_MAX_FAILURES - 3):  # three failures left in this network's fifteen minutes
        assert _attempt(client, f"earlier{n}@hotline.example").status_code == 401
    clients = [app.test_client() for _ in range(AT_ONCE)]
    for each in clients:
        csrf_token_of(each)  # each its own session and CSRF token, before the start
    start, statuses = threading.Barrier(AT_ONCE), [0] * AT_ONCE

    def guess(n: int) -> None:
        start.wait()
        statuses[n] = _attempt(clients[n], f"guess{n}@hotline.example").status_code  # a different e-mail each

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (statuses.count(401), statuses.count(429)) == (3, AT_ONCE - 3)
    with hotline.db.session() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)
                              .where(LoginAttempt.remote_addr == NETWORK)) == ADDRESS_MAX_FAILURES
