"""v4 actions on single records: ``PUT /{resource}/{id}?action=X``, ``POST /email_invoice`` and the
streamed ``GET /download/{id}``.

Which actions a resource accepts, and which v5 bulk action or per-record route each becomes, is
data (``actions`` of each resource in ``mappings/``); this module is the one generic handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Awaitable, Callable

from aiohttp import web

from . import errors
from .proxy import Exchange, ResourceProxy, json_response, read_json_body, stream_from_v5
from .translate.plan import Context
from .translate.spec import ActionSpec
from .translate.structural import invoice_filename

Operation = Callable[[Exchange], Awaitable[web.StreamResponse]]

# v5 renders PDFs of invoices and quotes only (recurring invoices have no download route).
PDF_KINDS = frozenset({"invoice", "quote"})


def unsupported(action: str) -> errors.V4Error:
    # v4's BaseAPIController::errorResponse: the error is a bare string (v4-api §6.1).
    return errors.V4Error(400, {"error": f"Action [{action}] is not supported"})


@dataclass(frozen=True)
class Target:
    """The v5 record a v4 id names, and the resource serving it (a variant for quotes and
    recurring invoices behind `/invoices/{id}`), whose mapping says how its actions run."""

    resource: ResourceProxy
    path: str  # v5 record path, e.g. quotes/Opnel5aKBz

    @property
    def v5_id(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def v5_path(self) -> str:
        return self.resource.spec.v5_path

    @property
    def actions(self) -> dict[str, ActionSpec]:
        return self.resource.spec.actions or {}


class Actions:
    """The generic handler of the action tables declared in the mappings."""

    @staticmethod
    def target(resource: ResourceProxy, exchange: Exchange, raw_id: str) -> Target:
        """The record `raw_id` names through `resource`, with v4's three not-found answers."""
        return Target(*resource.resolve(exchange, raw_id))

    # -- PUT /{resource}/{id}?action= --------------------------------------------------------

    def update_or_act(self, resource: ResourceProxy, update: Operation) -> Operation:
        """v4's update(): with an `action` (query or body) it runs the action instead."""

        async def handle(exchange: Exchange) -> web.StreamResponse:
            name = await requested_action(exchange.request)
            if name is None:
                return await update(exchange)
            return await self.act(resource, exchange, name)

        return handle

    async def act(self, resource: ResourceProxy, exchange: Exchange, name: str) -> web.Response:
        target = self.target(resource, exchange, exchange.request.match_info["id"])
        served_by = target.resource
        tree = served_by.includes(exchange.request)
        query = served_by.include_query(tree)
        # v4 found the record (404) before it looked at the action (400); v4's validation of the
        # update body before the action is not replicated: an action never uses the body.
        spec = target.actions.get(name)
        record = await read_record(exchange, target, query) if needs_record(spec) else None
        if spec is None:
            raise unsupported(name)
        answer = await perform(exchange, target, spec, record, query)
        if spec.answers:  # a new record (quote convert: the invoice)
            data = await served_by.render(exchange, answer, tree, plan=exchange.plans[spec.answers])
            return json_response(200, {"data": data})
        if answer is None:  # v5 answered a message: read the record as the action left it
            answer = await read_record(exchange, target, query)
        return json_response(200, {"data": await served_by.render(exchange, answer, tree)})

    # -- POST /email_invoice ------------------------------------------------------------------

    async def email_invoice(self, invoices: ResourceProxy, exchange: Exchange) -> web.Response:
        body = await read_json_body(exchange.request)
        raw_id = next((body[key] for key in ("id", "invoice_id", "public_id") if body.get(key) not in (None, "")),
                      None)
        if raw_id is None and body.get("invoice_number"):
            raw_id = await self.v4_id_by_number(exchange, str(body["invoice_number"]))
        if raw_id is None:
            raise errors.bad_request("Name the invoice to email: id, invoice_id, public_id or invoice_number")
        target = self.target(invoices, exchange, str(raw_id))
        spec = target.actions.get("emailInvoice")
        record = await read_record(exchange, target, []) if needs_record(spec) else None
        if spec is None:
            raise unsupported("emailInvoice")
        extra = [("email_type", body["reminder"])] if body.get("reminder") in REMINDERS else []
        await perform(exchange, target, spec, record, extra)
        return json_response(200, {"message": "success"})  # v4: no `data` wrapper (v4-api §6.3)

    async def v4_id_by_number(self, exchange: Exchange, number: str) -> int:
        found = await exchange.fetch_json("invoices", query=[("number", number), ("per_page", "1")])
        rows = found.get("data") if isinstance(found, dict) else None
        if not rows:
            raise errors.route_not_found(f"Invoice {number} does not exist")
        return exchange.ids.to_v4("invoice", rows[0]["id"])

    # -- GET /download/{id} -------------------------------------------------------------------

    async def download(self, invoices: ResourceProxy, exchange: Exchange) -> web.StreamResponse:
        """The PDF, passed to the client chunk by chunk as v5 sends it: never held whole."""
        target = self.target(invoices, exchange, exchange.request.match_info["id"])
        record = await read_record(exchange, target, [])
        if record.get("is_deleted") or target.resource.kind not in PDF_KINDS:
            raise errors.route_not_found()  # v4: abort(404) for a deleted invoice (v4-api §6.4)
        filename = invoice_filename(record, Context())
        return await stream_from_v5(exchange, f"{target.path}/download", lambda upstream: pdf_headers(filename))


REMINDERS = ("reminder1", "reminder2", "reminder3")


async def requested_action(request: web.Request) -> str | None:
    """`action` as Laravel's $request->action read it: the JSON body first, then the query."""
    body = await read_json_body(request)
    value = body.get("action")
    if value in (None, "", False):
        value = request.query.get("action")
    if value in (None, ""):
        return None
    return value if isinstance(value, str) else str(value)


async def read_record(exchange: Exchange, target: Target, query: Any) -> dict:
    body = await exchange.call("GET", target.path, query=query)
    record = body.get("data")
    if not isinstance(record, dict):
        raise errors.upstream_bad_answer("no record in the answer")
    return record


def needs_record(spec: ActionSpec | None) -> bool:
    """Whether the record must be read before the action: to tell v4's 404 from its 400, to answer
    a no-op, or to check `skip_if`. Otherwise v5's own answer says whether the record exists."""
    return spec is None or bool(spec.skip_if) or (spec.bulk is None and spec.route is None)


async def perform(exchange: Exchange, target: Target, spec: ActionSpec, record: dict | None,
                  query: Any) -> dict | None:
    """Runs one action on v5; the record v5 answered with, or None when it answered a message."""
    if spec.bulk is None and spec.route is None or (record is not None and skipped(spec, record)):
        return record
    if spec.route is not None:
        body = await exchange.call("GET", f"{target.path}/{spec.route}", query=query)
        data = body.get("data")
        return data if isinstance(data, dict) else None
    # Bulk answers a page of the affected rows: size it to the ids so no page limit cuts it.
    ids = [target.v5_id]
    body = await exchange.call("POST", f"{target.v5_path}/bulk", query=[*query, ("per_page", str(len(ids)))],
                               body={"action": spec.bulk, "ids": ids})
    rows = body.get("data")
    return next((row for row in rows if isinstance(row, dict) and row.get("id") == target.v5_id), None) \
        if isinstance(rows, list) else None


def skipped(spec: ActionSpec, record: dict) -> bool:
    """v4 did nothing (and answered the record) where v5 refuses, e.g. markPaid on a paid invoice."""
    # v5 writes enum ids as strings or numbers: compare their text, so a mapping lists each once.
    return any(str(record.get(field)) in {str(v) for v in values} for field, values in spec.skip_if.items())


def pdf_headers(filename: str) -> dict[str, str]:
    """v4 BaseAPIController::fileReponse (v4-api §6.4). v4 set them with PHP header(), so the
    wire may have said text/html; the intended application/pdf is what clients can use."""
    return {
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "public, must-revalidate, max-age=0",
        "Last-Modified": formatdate(usegmt=True),
    }
