"""v4 task timers: `POST /tasks {"id": N, "action": "start|stop|resume|offline"}` upserted a task
and moved its timer (v4-api.md §6.1). v5 keeps the timer in `time_log`; the proxy edits it."""

from __future__ import annotations

import json

from aiohttp import web

from ..proxy import Exchange, ResourceProxy, read_json_body
from ..translate.structural import now, parse_v5_time_log


def apply_timer(action: str, log: list[list], at: int) -> list[list]:
    """The time log after a v4 timer action (unknown actions leave it alone, as v4 did)."""
    log = [list(entry) for entry in log]
    running = bool(log) and not (len(log[-1]) > 1 and log[-1][1])
    if action in ("start", "resume") and not running:
        log.append([at, 0, "", True])
    elif action == "stop" and running:
        log[-1] = [log[-1][0], at, *log[-1][2:]] if len(log[-1]) > 2 else [log[-1][0], at, "", True]
    return log


class TaskProxy(ResourceProxy):
    """Tasks: a create that names an `id` updates that task (v4's upsert), timer actions included."""

    async def create(self, exchange: Exchange) -> web.Response:
        v4_body = await read_json_body(exchange.request)
        action = str(v4_body.get("action") or "").strip().lower()
        raw_id = v4_body.get("id") or v4_body.get("public_id")
        tree = self.includes(exchange.request)
        path = self.record_path(exchange, str(raw_id)) if raw_id else None
        v5_body = await self.v5_body(exchange, "update" if path else "create")
        v5_body.pop("id", None)
        v5_body.pop("public_id", None)
        if action in ("start", "resume", "stop"):
            log: list[list] = []
            if "time_log" in v5_body:
                log = parse_v5_time_log(v5_body["time_log"])
            elif path is not None:  # the task's own log, read only when a timer needs it
                current = await exchange.call("GET", path)
                log = parse_v5_time_log((current.get("data") or {}).get("time_log"))
            v5_body["time_log"] = json.dumps(apply_timer(action, log, now()), separators=(",", ":"))
        if path is None:
            body = await exchange.call("POST", self.spec.v5_path, query=self.include_query(tree), body=v5_body)
        else:
            body = await exchange.call("PUT", path, query=self.include_query(tree), body=v5_body)
        return await self.item_answer(exchange, body, tree, created=path is None)
