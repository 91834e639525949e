"""Documents, uploads (POST + _method=PUT) and the streamed PDFs of invoices, quotes and credits."""

from __future__ import annotations

import re

import aiohttp

from ninja_bridge.ids.codec import HashidCodec

CODEC = HashidCodec("")
H = CODEC.encode


async def data(response, status: int = 200):
    assert response.status == status, await response.text()
    return (await response.json())["data"]


def upload_form(*files: tuple[str, str, bytes], method: str | None = "PUT") -> aiohttp.FormData:
    form = aiohttp.FormData()
    if method:
        form.add_field("_method", method)
    for field, filename, content in files:
        form.add_field(field, content, filename=filename, content_type="application/octet-stream")
    return form


# --- documents and uploads ------------------------------------------------------------------


async def test_seeded_expense_document(client, store):
    expense = (await data(await client.get("/api/v1/expenses?per_page=1")))[0]
    [document] = expense["documents"]
    assert document["name"] == "pixelprint-receipt.pdf" and document["type"] == "pdf"
    listed = await data(await client.get("/api/v1/documents"))
    assert [d["id"] for d in listed] == [document["id"]]
    assert "documentable_type" not in document and "documentable_id" not in document
    response = await client.get(f"/api/v1/documents/{document['id']}/download")
    body = await response.read()
    assert response.status == 200 and body.startswith(b"%PDF-1.4") and len(body) == document["size"]
    assert response.headers["Content-Disposition"] == "attachment; filename=pixelprint-receipt.pdf"


async def test_upload_to_invoice_answers_the_invoice_with_documents(client, store):
    invoice_id = H(201)
    response = await client.post(f"/api/v1/invoices/{invoice_id}/upload", data=upload_form(
        ("documents[]", "brief.txt", b"hello world"), ("documents[]", "logo.png", b"\x89PNG fake"),
    ))
    invoice = await data(response)
    assert invoice["id"] == invoice_id and invoice["entity_type"] == "invoice"
    names = [(d["name"], d["size"], d["type"]) for d in invoice["documents"]]
    assert names == [("brief.txt", 11, "txt"), ("logo.png", 9, "png")]
    brief = invoice["documents"][0]
    downloaded = await client.get(f"/api/v1/documents/{brief['id']}/download")
    assert await downloaded.read() == b"hello world"
    shown = await data(await client.get(f"/api/v1/documents/{brief['id']}"))
    assert shown["hash"] == brief["hash"]


async def test_upload_field_variants_and_real_put(client):
    expense_id = (await data(await client.get("/api/v1/expenses")))[1]["id"]
    for field in ("documents", "file", "file[]"):
        await client.post(f"/api/v1/expenses/{expense_id}/upload",
                          data=upload_form((field, f"{field.strip('[]')}.csv", b"a,b\n")))
    expense = await data(await client.put(f"/api/v1/expenses/{expense_id}/upload",
                                          data=upload_form(("documents", "put.pdf", b"%PDF"), method=None)))
    assert [d["name"] for d in expense["documents"]] == ["documents.csv", "file.csv", "file.csv", "put.pdf"]


async def test_upload_needs_method_spoofing_and_allowed_types(client):
    response = await client.post(f"/api/v1/clients/{H(101)}/upload",
                                 data=upload_form(("documents[]", "a.txt", b"x"), method=None))
    assert response.status == 404
    assert await response.json() == {"message": "Method not supported for this route"}
    response = await client.post(f"/api/v1/clients/{H(101)}/upload",
                                 data=upload_form(("documents[]", "a.txt", b"x"), ("documents[]", "run.exe", b"MZ")))
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert list(errors) == ["documents.1"]
    assert errors["documents.1"][0].startswith("The documents.1 field must be a file of type: png, ai, jpeg")


async def test_delete_document(client, store):
    document = next(iter(store.table("documents")))
    response = await client.delete(f"/api/v1/documents/{H(document['id'])}")
    assert await response.json() == {"message": "Success"}
    assert len(store.table("documents")) == 0
    assert (await client.get(f"/api/v1/documents/{H(document['id'])}")).status == 400


async def test_documents_post_is_an_empty_answer(client):
    response = await client.post("/api/v1/documents", json={"name": "x"})
    assert response.status == 200 and await response.read() == b""


# --- pdf ------------------------------------------------------------------------------------


async def test_invoice_pdf_download(client):
    response = await client.get(f"/api/v1/invoices/{H(201)}/download")
    body = await response.read()
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=Invoice_0001.pdf"
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    assert b"Invoice 0001" in body
    xref_at = int(re.search(rb"startxref\n(\d+)", body).group(1))
    assert body[xref_at:xref_at + 4] == b"xref"


async def test_pdf_padding_streams_large_bodies(client):
    response = await client.get(f"/api/v1/quotes/{H(201)}/download?pdf_size=300000")
    assert response.headers["Content-Disposition"] == "attachment; filename=Quote_0001.pdf"
    chunks = [chunk async for chunk in response.content.iter_chunked(65536)]
    body = b"".join(chunks)
    assert len(body) == 300000 and len(chunks) > 1
    assert body.startswith(b"%PDF-1.4") and body.endswith(b"%%EOF\n")
    bulk = await client.post("/api/v1/credits/bulk", json={"action": "download", "ids": [H(201)]})
    assert bulk.headers["Content-Type"] == "application/pdf"


async def test_pdf_size_default_is_a_store_setting(client, store):
    store.pdf_size = 200000
    response = await client.get(f"/api/v1/invoices/{H(202)}/download")
    body = await response.read()
    assert len(body) == 200000 and body.endswith(b"%%EOF\n")
    overridden = await client.get(f"/api/v1/invoices/{H(202)}/download?pdf_size=100000")
    assert len(await overridden.read()) == 100000
