"""The sender: a small thread pool that turns committed outcomes into push messages and sends them.

Invariants:
- Only what a commit handed on (models.events.take_committed) is sent, after the response's
  transaction ended, on two threads: a vote never waits for a push service. Each send has a short
  timeout (PUSH_TIMEOUT_SECONDS) and a message lives a day at the push service (TTL_SECONDS).
- Logs name the subscription's id and the status, nothing else.
- A push service that answers 404 or 410 has dropped the subscription: it is removed.
- Only an endpoint of an allowed push service (PUSH_ALLOWED_HOSTS) is sent to, and a message goes only
  to a public address of it, checked in the connection itself (web/push_network.py). A subscription
  refused at sending (its host now resolves to a private address, or the allow-list changed) is kept,
  not removed: that is a fault of DNS or configuration, not of the device, and removing it would
  silently end a member's notifications; it is tried again with the next message.
"""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from flask import current_app
from pywebpush import WebPushException, webpush

from models.db import begin_write
from models.subscriptions import PushSubscription, is_push_service_endpoint, remove_expired
from web.database import db
from web.push_keys import subject, vapid
from web.push_network import AddressRefused, push_session
from web.push_texts import messages, notices

log = logging.getLogger("teambudget.push")

EXPIRED = (404, 410)
TTL_SECONDS = 24 * 60 * 60  # a phone that is off for a day still hears about it; after that it is stale


class Sender:
    """A small thread pool that sends committed outcomes, so no request waits for a push service."""

    def __init__(self, app):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="push")
        self.futures = []
        self.lock = threading.Lock()  # requests of a threaded server submit at the same time

    def submit(self, outcomes):
        """Tell the members concerned about committed `outcomes`, in the background."""
        with self.lock:
            self.futures = [future for future in self.futures if not future.done()]
            self.futures.append(self.pool.submit(self.send, outcomes))

    def wait(self, timeout=10):
        """Wait until everything submitted so far was sent (tests, the reminder command)."""
        with self.lock:
            futures = list(self.futures)
        wait(futures, timeout=timeout)

    def close(self):
        """Finish what was submitted and stop the threads (before the app's engine is disposed)."""
        self.pool.shutdown(wait=True)

    def send(self, outcomes):
        """Write and send a message to every device of the members each outcome concerns; remove expired
        devices."""
        with self.app.app_context(), push_session(self.app.config["PUSH_ALLOWED_HOSTS"],
                                                  self.app.config["PUSH_ALLOW_PRIVATE_ADDRESSES"]) as http:
            try:
                for notice in notices(db(), outcomes):
                    for subscription, payload in messages(notice):
                        deliver(subscription, payload, http)
                db().commit()
            except Exception as error:  # a background thread has no one to report to but the log
                log.error("push: sending failed (%s)", type(error).__name__)


def deliver(subscription: PushSubscription, payload: str, http) -> None:
    """Encrypt and send one message over `http` (web.push_network.push_session); a subscription the
    push service no longer knows is removed, one that is not a push service's is not contacted."""
    app = current_app._get_current_object()
    # again here: a row stored before the allow-list existed, or since taken off it, is never contacted
    if not is_push_service_endpoint(subscription.endpoint, app.config["PUSH_ALLOWED_HOSTS"],
                                    allow_insecure=app.config["PUSH_ALLOW_INSECURE_ENDPOINTS"]):
        log.warning("push: subscription %s not sent (not a push service)", subscription.id)
        return
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        webpush(info, payload, vapid_private_key=vapid(app), vapid_claims={"sub": subject(app)},
                ttl=TTL_SECONDS, timeout=app.config["PUSH_TIMEOUT_SECONDS"], requests_session=http)
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in EXPIRED:
            begin_write(db())  # this thread's transaction read the devices; SQLite cannot upgrade it
            remove_expired(db(), subscription.id)
            log.info("push: subscription %s expired (%s), removed", subscription.id, status)
        else:
            log.warning("push: subscription %s refused (%s)", subscription.id, status)
    except AddressRefused:
        log.warning("push: subscription %s not sent (address refused)", subscription.id)
    except Exception as error:  # timeouts, refused connections, a key the service cannot use
        log.warning("push: subscription %s not reached (%s)", subscription.id, type(error).__name__)
