"""v4 hooks on top of v5 webhooks: subscribe and unsubscribe, and the relay that turns each v5
delivery back into the v4 payload and posts it to the legacy target (docs/webhooks.md).

    v4 client --POST /api/v1/hooks--> proxy --POST /webhooks (target: the proxy's relay URL)--> v5
    v5 --POST {relay URL} (v5 entity)--> proxy --POST (v4 entity, v4 names, integer ids)--> legacy target

Stateless: the legacy target and the event name travel inside the relay URL, signed with the
configured secret, so any replica can relay any delivery and nothing else can use the relay.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import quote, urlsplit

import aiohttp
import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from . import errors
from .config import Settings
from .ids.translator import IdError, IdTranslator
from .observability import log
from .proxy import Exchange, json_response, read_json_body
from .routes import API_PREFIX
from .translate.plan import Context, PlanSet, TranslationError, parse_includes
from .translate.spec import HookSpec, Mappings
from .webhook_targets import GuardedResolver, TargetPolicy, TargetRefused

HOOKS_PATH = f"{API_PREFIX}/hooks"
HOOK_ROUTES = [("POST", HOOKS_PATH), ("DELETE", HOOKS_PATH + "/{id}")]  # the v4 routes served here
RELAY_PATH = "/relay/v1/hooks"
WEBHOOK_KIND = "webhook"  # the v5 kind whose keys are the v4 hook ids
RETRYABLE_STATUSES = frozenset({408, 425, 429})  # plus every 5xx

ExchangeOpener = Callable[[web.Request], Awaitable[Exchange]]


def hooks_disabled() -> errors.V4Error:
    return errors.not_supported(f"POST {HOOKS_PATH}", "hooks are not enabled on this proxy; the operator must set "
                                                      "NINJA_BRIDGE_WEBHOOK_SECRET")


def event_invalid() -> errors.V4Error:
    return errors.V4Error(500, "Event is invalid")  # v4's own answer, a bare JSON string (v4-api.md §6.6)


def relay_signature(secret: str, event: str, target: str) -> str:
    message = orjson.dumps([event, target])  # unambiguous: no two (event, target) pairs share it
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def relay_url(base: str, secret: str, event: str, target: str) -> str:
    """The URL v5 posts to: the proxy's relay, carrying the event and the legacy target, signed."""
    signature = relay_signature(secret, event, target)
    return f"{base}{RELAY_PATH}/{event}?target={quote(target, safe='')}&sig={signature}"


def target_for_logs(target: str) -> str:
    # Hook URLs often carry a key (Zapier, n8n): log where they point, never the whole URL.
    try:
        parts = urlsplit(target)
    except ValueError:
        return "(not a URL)"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def client_name(v4_obj: dict, v5_obj: dict) -> str | None:
    """v4 added the client's display name to payloads with a client_id "for legacy Zapier"; the
    name comes from the client v5 included (v5 includes none for tasks and expenses: then none)."""
    if not v4_obj.get("client_id"):
        return None
    client = v5_obj.get("client")
    if not isinstance(client, dict):
        return None
    return str(client.get("display_name") or client.get("name") or "")


@dataclass(frozen=True)
class Delivery:
    event: str
    target: str
    body: bytes


class HookRelay:
    """Translates v5 deliveries and posts them to legacy targets, retrying in the background."""

    def __init__(self, settings: Settings, plans: PlanSet, ids: IdTranslator,
                 registry: CollectorRegistry | None = None) -> None:
        self.secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        self.base = settings.webhook_base
        self.plans = plans
        self.ids = ids
        self.policy = TargetPolicy.from_entries(settings.webhook_allowed_targets)
        self.timeout = settings.webhook_timeout
        self.retries = settings.webhook_retries
        self.retry_delay = settings.webhook_retry_delay
        self.max_pending = settings.webhook_max_pending
        self.pending: set[asyncio.Task] = set()
        self.registry = registry or CollectorRegistry()
        self.dropped = Counter("ninja_bridge_webhook_deliveries_dropped", "Hook deliveries given up, by reason",
                               ["event", "reason"], registry=self.registry)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.policy), limit=100)
        self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        for task in list(self.pending):
            task.cancel()
        await asyncio.gather(*self.pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def signature_ok(self, event: str, target: str, signature: str) -> bool:
        expected = relay_signature(self.secret, event, target)
        return hmac.compare_digest(expected.encode(), signature.encode())

    def v4_payload(self, hook: HookSpec, v5_obj: dict) -> dict:
        """What v4 posted for the event: the bare v4 entity with v4's includes and client_name."""
        plan = self.plans[hook.entity]
        v4_obj = plan.to_v4(v5_obj, parse_includes(",".join(hook.includes)), Context(ids=self.ids))
        name = client_name(v4_obj, v5_obj)
        if name is not None:
            v4_obj["client_name"] = name
        return v4_obj

    # -- delivery -----------------------------------------------------------------------------

    async def attempt(self, delivery: Delivery) -> str:
        """One POST to the legacy target: delivered, gone (410), refused, rejected or failed."""
        if self._session is None:
            return "failed"
        try:
            # The checks that need no DNS; the session's resolver checks each address as it connects.
            self.policy.host_of(delivery.target)
            async with self._session.post(delivery.target, data=delivery.body, allow_redirects=False,
                                          headers={"Content-Type": "application/json"}) as response:
                await response.read()
                status = response.status
        except TargetRefused as exc:
            return self._refused(delivery, exc)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, TargetRefused):  # refused by the connection's own resolver
                return self._refused(delivery, exc.os_error)
            return self._failed(delivery, type(exc).__name__)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return self._failed(delivery, type(exc).__name__)
        if 200 <= status < 300:
            return "delivered"
        if status == 410:
            return "gone"
        if status >= 500 or status in RETRYABLE_STATUSES:
            return self._failed(delivery, f"status {status}")
        log.warning("webhook_target_rejected", hook_event=delivery.event, target=target_for_logs(delivery.target),
                    status=status)
        return "rejected"

    def _refused(self, delivery: Delivery, reason: OSError) -> str:
        log.warning("webhook_target_refused", hook_event=delivery.event, target=target_for_logs(delivery.target),
                    reason=str(reason))
        return "refused"

    def _failed(self, delivery: Delivery, detail: str) -> str:
        log.info("webhook_attempt_failed", hook_event=delivery.event, target=target_for_logs(delivery.target),
                 detail=detail)
        return "failed"

    def drop(self, delivery: Delivery, reason: str) -> None:
        log.warning("webhook_delivery_dropped", hook_event=delivery.event, target=target_for_logs(delivery.target),
                    reason=reason)
        self.dropped.labels(event=delivery.event, reason=reason).inc()

    def retry_later(self, delivery: Delivery) -> bool:
        """Queue the background retries; False (and the delivery dropped) when they cannot be."""
        if self.retries == 0:
            self.drop(delivery, "retries_exhausted")
            return False
        if len(self.pending) >= self.max_pending:
            self.drop(delivery, "too_many_pending")
            return False
        task = asyncio.get_running_loop().create_task(self._retry(delivery))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        return True

    async def _retry(self, delivery: Delivery) -> None:
        for number in range(self.retries):
            await asyncio.sleep(self.retry_delay * 2**number)
            outcome = await self.attempt(delivery)
            if outcome == "delivered":
                log.info("webhook_delivered", hook_event=delivery.event, target=target_for_logs(delivery.target),
                         retries=number + 1)
                return
            if outcome != "failed":
                # A 410 now cannot reach v5 (this answer went long ago); the next event's will.
                self.drop(delivery, "target_gone" if outcome == "gone" else f"target_{outcome}")
                return
        self.drop(delivery, "retries_exhausted")


RELAY = web.AppKey("hook_relay", HookRelay)


class HookEndpoints:
    """The HTTP side: v4's `POST /hooks` and `DELETE /hooks/{id}`, and the relay v5 calls."""

    def __init__(self, relay: HookRelay, mappings: Mappings, ids: IdTranslator, open_exchange: ExchangeOpener):
        self.relay = relay
        self.mappings = mappings
        self.ids = ids
        self.open_exchange = open_exchange

    def hook_for(self, body: dict) -> tuple[str, HookSpec]:
        """The event a v4 subscribe body names, refused as v4 refused it, or as not yet mapped."""
        event = body.get("event")
        name = event.strip() if isinstance(event, str) else ""  # v4 trimmed the name
        hook = self.mappings.hooks.get(name)
        if hook is None:
            raise event_invalid()
        if hook.entity not in self.mappings.entities:
            raise errors.not_supported(f"POST {HOOKS_PATH}", f"event {name} cannot be relayed: these mappings have "
                                                             f"no v4 entity {hook.entity}")
        return name, hook

    async def target_of(self, body: dict) -> str:
        target = body.get("target_url")
        target = target.strip() if isinstance(target, str) else ""
        if not target:
            raise errors.validation_failed({"target_url": ["The target url field is required."]})
        try:
            await self.relay.policy.check(target)
        except TargetRefused as exc:
            raise errors.validation_failed({"target_url": [f"The target url is refused: {exc}."]}) from exc
        return target

    async def subscribe(self, request: web.Request) -> web.Response:
        exchange = await self.open_exchange(request)
        if not self.relay.secret:
            raise hooks_disabled()
        body = await read_json_body(request)
        name, hook = self.hook_for(body)
        target = await self.target_of(body)
        base = self.relay.base or f"{request.scheme}://{request.host}"
        exchange.notes["error_field"] = lambda key: "event" if key == "event_id" else key
        answer = await exchange.call("POST", "webhooks", body={
            "event_id": hook.event_id, "target_url": relay_url(base, self.relay.secret, name, target),
            "rest_method": "post", "format": "JSON"})
        webhook = answer.get("data")
        if not isinstance(webhook, dict) or not webhook.get("id"):
            raise errors.upstream_bad_answer("no webhook in the answer")
        log.info("hook_subscribed", hook_event=name, target=target_for_logs(target))
        return json_response(201, {"id": self.ids.to_v4(WEBHOOK_KIND, webhook["id"])})

    async def unsubscribe(self, request: web.Request) -> web.Response:
        exchange = await self.open_exchange(request)
        raw = request.match_info["id"]
        try:
            v5_id = self.ids.to_v5(WEBHOOK_KIND, int(raw)) if raw.isdigit() else None
        except IdError:
            v5_id = None
        found = await exchange.fetch_json(f"webhooks/{v5_id}") if v5_id else None
        webhook = found.get("data") if isinstance(found, dict) else None
        # v5 keeps removed webhooks (archived when a target answered 410): for v4 they are gone.
        if not isinstance(webhook, dict) or webhook.get("is_deleted") or webhook.get("archived_at"):
            raise errors.record_not_found()
        await exchange.call("DELETE", f"webhooks/{v5_id}")
        return json_response(200, {"data": "success"})

    async def relay_delivery(self, request: web.Request) -> web.Response:
        """Called by v5. The first attempt is made while v5 waits, so that a 410 from the legacy
        target reaches v5 as a 410 and v5 removes the webhook itself; failures retry in the background."""
        relay = self.relay
        event = request.match_info["event"]
        target = request.query.get("target", "")
        if not relay.secret:
            return json_response(503, {"message": "hooks are not enabled on this proxy"})
        if not relay.signature_ok(event, target, request.query.get("sig", "")):
            log.warning("webhook_relay_unsigned", hook_event=event, peer=request.remote)
            return json_response(401, {"message": "missing or invalid relay signature"})
        delivery = Delivery(event, target, b"")
        hook = self.mappings.hooks.get(event)
        if hook is None or hook.entity not in self.mappings.entities:
            relay.drop(delivery, "unknown_event")
            return json_response(400, {"message": f"event {event} is not relayed by this proxy"})
        v5_obj = await read_json_body(request)
        try:
            v4_obj = relay.v4_payload(hook, v5_obj)
        except (TranslationError, IdError, ValueError, TypeError) as exc:
            log.warning("webhook_untranslatable", hook_event=event, error=str(exc))
            relay.drop(delivery, "untranslatable")
            return json_response(400, {"message": "the payload could not be translated to v4"})
        delivery = Delivery(event, target, orjson.dumps(v4_obj))
        outcome = await relay.attempt(delivery)
        if outcome == "delivered":
            return json_response(200, {"message": "delivered"})
        if outcome == "gone":
            log.info("hook_target_gone", hook_event=event, target=target_for_logs(target))
            return json_response(410, {"message": "the legacy target is gone (410): remove this webhook"})
        if outcome == "failed" and relay.retry_later(delivery):
            return json_response(202, {"message": "queued for retry"})
        if outcome != "failed":
            relay.drop(delivery, f"target_{outcome}")
        # 400: v5 gives up on this delivery without retrying (v5-api.md §6).
        return json_response(400 if outcome == "refused" else 200, {"message": f"not delivered: {outcome}"})


def setup_webhooks(app: web.Application, settings: Settings, mappings: Mappings, plans: PlanSet,
                   ids: IdTranslator, open_exchange: ExchangeOpener,
                   registry: CollectorRegistry | None = None) -> HookRelay:
    """Adds `POST /hooks`, `DELETE /hooks/{id}` and the relay to the proxy's application."""
    relay = HookRelay(settings, plans, ids, registry)
    app[RELAY] = relay

    async def start(app: web.Application) -> None:
        await relay.start()

    async def stop(app: web.Application) -> None:
        await relay.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    endpoints = HookEndpoints(relay, mappings, ids, open_exchange)
    for (method, path), handler in zip(HOOK_ROUTES, (endpoints.subscribe, endpoints.unsubscribe)):
        app.router.add_route(method, path, handler)
    app.router.add_post(RELAY_PATH + "/{event}", endpoints.relay_delivery)
    return relay
