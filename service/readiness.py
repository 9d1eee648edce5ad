"""Readiness for load balancers: ready once the index is loaded and warmed, not ready while draining."""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger("beacon.service")


class Readiness:
    """/readyz answers 200 only when this worker has answered a warm-up query and is not draining.

    /healthz stays liveness (the process answers); a balancer or Kubernetes sends traffic on
    /readyz, so a rolling deploy never routes to a cold worker or to one that is stopping."""

    def __init__(self):
        self.warmed = False
        self.draining = False

    @property
    def ready(self) -> bool:
        return self.warmed and not self.draining

    @property
    def state(self) -> str:
        return "draining" if self.draining else "ready" if self.warmed else "starting"

    def drain_on_sigterm(self, drain_s: float) -> None:
        """Wrap the server's SIGTERM handler: turn not-ready at once, keep answering for drain_s
        seconds (so balancers see /readyz fail and stop sending), then hand over to the server's
        own graceful shutdown (BEACON_SHUTDOWN_GRACE_S). Only the main thread may set handlers;
        a server run in a thread (tests) keeps its own."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)

        def handler(signum, frame):
            if self.draining or drain_s <= 0 or not callable(previous):
                self.draining = True
                if callable(previous):
                    previous(signum, frame)
                return
            self.draining = True
            log.info("SIGTERM: not ready (draining) for %gs, then shutting down", drain_s)
            timer = threading.Timer(drain_s, previous, args=(signum, None))
            timer.daemon = True
            timer.start()

        signal.signal(signal.SIGTERM, handler)
