"""Files: document uploads and downloads, and the PDFs of invoices, quotes and credits."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ninja_bridge.sandbox import billing, operations
from ninja_bridge.sandbox.entities import ENTITIES, Entity
from ninja_bridge.sandbox.errors import ValidationErrors, method_not_supported
from ninja_bridge.sandbox.pdf import build_pdf, stream_bytes
from ninja_bridge.sandbox.protocol import entity_of, item, store_of
from ninja_bridge.sandbox.store import Record

UPLOADABLE = ("clients", "invoices", "quotes", "credits", "recurring_invoices", "payments", "products",
              "projects", "tasks", "expenses", "vendors")


async def upload_documents(request: web.Request) -> web.Response:
    """PUT /{entity}/{id}/upload (sent as POST with _method=PUT): stores files, answers the parent."""
    entity = entity_of(request)
    store = store_of(request)
    form = await request.post()
    if request.method == "POST" and str(form.get("_method", "")).upper() != "PUT":
        raise method_not_supported()  # the route is PUT; only Laravel method spoofing reaches it by POST
    record = operations.find_by_path_id(store, entity, request.match_info["id"])
    files = uploaded_files(form)
    errors = ValidationErrors()
    for attribute, upload in files:
        if operations.document_type(upload.filename or "") not in operations.ALLOWED_DOCUMENT_TYPES:
            allowed = ", ".join(operations.ALLOWED_DOCUMENT_TYPES)
            errors.add(attribute, f"The {attribute} field must be a file of type: {allowed}.")
    errors.raise_if_any()
    is_public = str(form.get("is_public", "true")).lower() not in ("0", "false")
    for _, upload in files:
        content = upload.file.read()
        operations.attach_document(store, entity.name, record, upload.filename or "document", content, is_public)
    return item(request, entity, record)


def uploaded_files(form: Any) -> list[tuple[str, web.FileField]]:
    """(validation attribute, file) pairs: `documents[]` files validate as documents.N, `documents` as documents."""
    files: list[tuple[str, web.FileField]] = []
    for base in ("documents", "file"):
        as_array = [v for v in form.getall(f"{base}[]", []) if isinstance(v, web.FileField)]
        single = [v for v in form.getall(base, []) if isinstance(v, web.FileField)]
        files += [(f"{base}.{index}", upload) for index, upload in enumerate(as_array)]
        files += [(base if len(single) == 1 else f"{base}.{index}", upload) for index, upload in enumerate(single)]
    return files


async def download_document(request: web.Request) -> web.StreamResponse:
    store = store_of(request)
    document = operations.find_by_path_id(store, ENTITIES["documents"], request.match_info["id"])
    # v5 streams documents without a Content-Type, so the framework default (text/html) goes out; and
    # streamDownload() overwrites the `inline` disposition DocumentController asks for with `attachment`.
    return await stream_bytes(request, document["content"], "text/html; charset=UTF-8", document["name"])


async def pdf_download(request: web.Request, entity: Entity, record: Record) -> web.StreamResponse:
    store = store_of(request)
    client = store.table("clients").get(record.get("client_id")) or {}
    lines = [
        f"{entity.model} {record.get('number', '')}",
        store.company.get("settings", {}).get("name", ""),
        f"Client: {client.get('name', '')}",
        f"Date: {record.get('date', '')}",
        f"Amount: {record.get('amount', 0.0):.2f}",
        f"Balance: {record.get('balance', 0.0):.2f}",
    ]
    size = max(0, billing.to_float(request.query.get("pdf_size", store.pdf_size)))
    data = build_pdf(lines, pad_to=int(size))
    filename = f"{entity.model}_{record.get('number') or store.encode(record['id'])}.pdf"  # getFileName()
    return await stream_bytes(request, data, "application/pdf", filename)
