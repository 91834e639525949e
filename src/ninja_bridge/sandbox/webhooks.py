"""Webhook delivery as v5 does it (v5-api.md §6): on a model event, every active webhook of that
event_id gets the entity's own transformer output, bare (no `data` wrapper, no event name), with
the includes v5's observers ask for, POSTed (or PUT, per `rest_method`) as JSON with
`Accept: application/json` and the webhook's own headers. A 404, 405 or 410 from the target
removes the webhook (v5 soft-deletes it: it shows as archived).

Simplified on purpose: delivery happens at once (v5 delays payment events 20-25 s) and is not
retried (v5 retries some failures up to 5 times over about an hour). Each delivery runs in its
own task, so the API call that caused it is never held up.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from ninja_bridge.sandbox.entities import ENTITIES, parse_includes, render
from ninja_bridge.sandbox.operations import archive
from ninja_bridge.sandbox.store import Record, SandboxStore

log = logging.getLogger(__name__)

# (store event, entity) -> v5 webhook event_id (app/Models/Webhook.php constants).
EVENT_IDS: dict[tuple[str, str], int] = {
    ("create", "clients"): 1, ("update", "clients"): 10, ("delete", "clients"): 11,
    ("create", "invoices"): 2, ("update", "invoices"): 8, ("delete", "invoices"): 9,
    ("create", "quotes"): 3, ("update", "quotes"): 6, ("delete", "quotes"): 7, ("approve", "quotes"): 21,
    ("create", "payments"): 4, ("delete", "payments"): 12, ("update", "payments"): 31,
    ("create", "vendors"): 5, ("update", "vendors"): 13, ("delete", "vendors"): 14,
    ("create", "expenses"): 15, ("update", "expenses"): 16, ("delete", "expenses"): 17,
    ("create", "tasks"): 18, ("update", "tasks"): 19, ("delete", "tasks"): 20,
}
# The extra includes v5's observers dispatch with (InvoiceObserver, PaymentObserver, ...).
EVENT_INCLUDES: dict[str, str] = {"invoices": "client", "quotes": "client", "payments": "invoices,client"}
UNSUBSCRIBE_STATUSES = frozenset({404, 405, 410})
DELIVERY_TIMEOUT = 10.0
MAX_IN_FLIGHT = 100


class WebhookSender:
    """A `store.events` listener that delivers webhooks in background tasks."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.tasks: set[asyncio.Task] = set()
        self.session: aiohttp.ClientSession | None = None

    async def start(self, app: web.Application) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT))

    async def stop(self, app: web.Application) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def subscriptions(self, event_id: int) -> list[Record]:
        return [hook for hook in self.store.table("webhooks")
                if str(hook.get("event_id")) == str(event_id) and not hook["archived_at"] and not hook["is_deleted"]]

    def __call__(self, event: str, kind: str, record: Record) -> None:
        event_id = EVENT_IDS.get((event, kind))
        hooks = self.subscriptions(event_id) if event_id is not None else []
        if not hooks or self.session is None:
            return
        # Rendered now: the payload shows the record as this event left it.
        payload = render(self.store, ENTITIES[kind], record, parse_includes(EVENT_INCLUDES.get(kind)))
        for hook in hooks:
            if len(self.tasks) >= MAX_IN_FLIGHT:
                log.warning("sandbox webhook %s dropped: too many deliveries in flight", hook["id"])
                continue
            task = asyncio.get_running_loop().create_task(self.deliver(hook, payload))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def deliver(self, hook: Record, payload: dict) -> None:
        assert self.session is not None
        headers = {"Accept": "application/json", **(hook.get("headers") or {})}
        method = "PUT" if hook.get("rest_method") == "put" else "POST"
        try:
            async with self.session.request(method, hook["target_url"], json=payload, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.info("sandbox webhook %s failed: %s", hook["id"], type(exc).__name__)
            return
        if status in UNSUBSCRIBE_STATUSES:
            archive(self.store, "webhooks", hook)  # v5's $subscription->delete(): a soft delete


def install(app: web.Application, store: SandboxStore) -> WebhookSender:
    sender = WebhookSender(store)
    store.events.append(sender)
    app.on_startup.append(sender.start)
    app.on_cleanup.append(sender.stop)
    return sender
