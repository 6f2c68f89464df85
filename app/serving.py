"""``hotline serve`` in production: gunicorn around the app built (and checked) once in the master."""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from app.collector import freeze_for_collector
from app.db_time_limit import TWILIO_PREFIX
from app.malloc_arenas import HeapTrim, share_one_arena
from app.wiring import Hotline

DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
WORKER_CLASS = "app.request_buffering.BufferingThreadWorker"  # a thread only for a request read whole
TIMEOUT_SECONDS = 30  # Twilio gives up on a webhook after 15 s; a worker stuck longer is replaced


class HotlineServer(BaseApplication):
    """gunicorn with the already-built Flask app (preloaded: forked workers share the checked wiring)."""

    def __init__(self, app: Flask, hotline: Hotline, options: dict[str, Any]) -> None:
        self.application = app
        self.hotline = hotline
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Hand our options to gunicorn's settings."""
        for key, value in self.options.items():
            if key in self.cfg.settings:  # e.g. control_socket_disable exists from gunicorn 24 on
                self.cfg.set(key, value)
        self.cfg.set("post_fork", self._post_fork)
        self.cfg.set("post_request", _trim_after_page)

    def load(self) -> Flask:
        """The app, built before gunicorn started; what the master holds is then frozen for the collector."""
        freeze_for_collector()
        return self.application

    def _post_fork(self, _server: Any, _worker: Any) -> None:
        # pooled database connections opened in the master must not be shared by the children
        self.hotline.db.engine.dispose(close=False)


_trim = HeapTrim()


def _trim_after_page(_worker: Any, _request: Any, environ: dict[str, Any], _response: Any) -> None:
    """After a page has been sent in full (an export streams): the page's reference cycles are collected, then the
    heap's free pages go back (not after webhooks).

    The collection (the two young generations only, what the page allocated; the master's objects are frozen)
    frees the cycles a page leaves behind (ORM sessions, results, templates' contexts) now instead of at some later
    automatic collection, so their memory is free when the heap is trimmed. bench/memory.py's web worker after the
    load and a manager's 224 pages: about 1.5 MB less (77.2 to 78.2 against 79.3 MB, the largest of four); 0.15 ms
    of CPU a page (median; 3.6 ms at p90). A full collection (``gc.collect()``) saved a little more but cost 8 ms
    of CPU a page.
    """
    if not environ.get("PATH_INFO", "").startswith(TWILIO_PREFIX):
        gc.collect(1)
        _trim()


def gunicorn_options(host: str, port: int, workers: int, threads: int = DEFAULT_THREADS) -> dict[str, Any]:
    """gunicorn settings for ``hotline serve``: threaded workers, access log on stdout."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "threads": threads,
        "timeout": TIMEOUT_SECONDS,
        "graceful_timeout": TIMEOUT_SECONDS,
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "hotline-web",
        "control_socket_disable": True,  # a shared default path would clash between several instances
        # gunicorn's own reading of X-Forwarded-Proto/-Ssl and SCRIPT_NAME headers from 127.0.0.1 (its default):
        # off, whatever FORWARDED_ALLOW_IPS says. Forwarded headers are honoured only with TRUST_PROXY_HEADERS, by
        # the app's ProxyFix (``app.factory``); a same-host proxy passing a client's headers on must not make the
        # session cookie Secure, add HSTS or move the app's root for that client.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "forwarder_headers": "",
    }


def run_gunicorn(app: Flask, hotline: Hotline, host: str, port: int, workers: int, threads: int) -> None:
    """Serve ``app`` with gunicorn until stopped; each worker it forks serves its threads from one malloc arena."""
    share_one_arena()
    _import_before_fork()
    HotlineServer(app, hotline, gunicorn_options(host, port, workers, threads)).run()


def _import_before_fork() -> None:
    """What every web worker would otherwise import for itself after the fork (issue 12: its memory).

    ``socket.getaddrinfo`` encodes a host name with the ``idna`` codec, whose first lookup imports
    ``encodings.idna`` and with it ``stringprep`` and ``unicodedata``: each worker did so on its first
    Redis connection, and setting ``unicodedata`` up touched 0.2 MB of its shared library's pages in each
    (a forked child that resolved a name grew 1,012 KiB with the codec imported after the fork, 788 KiB
    with it imported before). Imported here, in the master, the workers inherit it.
    """
    import encodings.idna  # noqa: F401
