"""End to end: v4 document upload (`POST /api/v1/documents`, multipart) through the proxy onto v5's
`/{invoices|expenses}/{id}/upload`, streamed, refused cleanly, never half-stored."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from ninja_bridge.app import create_app
from ninja_bridge.config import load_settings
from ninja_bridge.ids.codec import HashidCodec
from ninja_bridge.sandbox import SANDBOX_TOKEN

V4_AUTH = {"X-Ninja-Token": SANDBOX_TOKEN}
H = HashidCodec("").encode
LIMIT = 64 * 1024


def form(*fields: tuple[str, str], file: tuple[str, bytes] | None = None, file_first: bool = False):
    data = aiohttp.FormData()
    if file and file_first:
        data.add_field("file", file[1], filename=file[0], content_type="text/plain")
    for name, value in fields:
        data.add_field(name, value)
    if file and not file_first:
        data.add_field("file", file[1], filename=file[0], content_type="text/plain")
    return data


def documents_of(store, kind: str, key: int) -> list[dict]:
    return store.table("documents").where(documentable_type=kind, documentable_id=key)


@pytest.fixture
async def small_limit_proxy(aiohttp_client, sandbox_server):
    settings = load_settings(upstream=str(sandbox_server.make_url("")).rstrip("/"), max_body_size=LIMIT,
                             upstream_total_timeout=10, upstream_read_timeout=5)
    return await aiohttp_client(create_app(settings), headers=V4_AUTH)


@pytest.mark.v4_route("POST /api/v1/documents")
async def test_upload_to_an_invoice_answers_the_v4_document(proxy, sandbox_store):
    response = await proxy.post("/api/v1/documents", data=form(("invoice_id", "202"),
                                                               file=("notes.txt", b"hello v4")))
    assert response.status == 200, await response.text()
    document = (await response.json())["data"]
    [stored] = documents_of(sandbox_store, "invoices", 202)
    assert stored["content"] == b"hello v4" and stored["name"] == "notes.txt"
    assert document["id"] == stored["id"] and document["invoice_id"] == 202 and document["expense_id"] == 0
    assert document["name"] == "notes.txt" and document["type"] == "txt" and document["size"] == 8
    assert document["path"] == stored["hash"] and document["is_deleted"] is False


@pytest.mark.v4_route("POST /api/v1/documents")
async def test_parent_after_the_file_and_the_public_id_spelling(proxy, sandbox_store):
    seeded = {d["id"] for d in documents_of(sandbox_store, "expenses", 701)}
    response = await proxy.post("/api/v1/documents", data=form(("expense_public_id", "701"),
                                                               file=("receipt.pdf", b"%PDF-1.4 x"), file_first=True))
    document = (await response.json())["data"]
    [new] = [d for d in documents_of(sandbox_store, "expenses", 701) if d["id"] not in seeded]
    assert response.status == 200 and document["id"] == new["id"] and document["expense_id"] == 701
    assert new["content"] == b"%PDF-1.4 x" and document["invoice_id"] == 0


@pytest.mark.parametrize("fields, file, status, key", [
    ((("invoice_id", "202"),), None, 422, "file"),  # no file
    ((), ("a.txt", b"x"), 422, "invoice_id"),  # no parent
    ((("invoice_id", "202"),), ("tool.exe", b"MZ"), 422, "file"),  # not a v4 document type
    ((("invoice_id", "202"),), ("page.webp", b"RIFF"), 422, "file"),  # v5 allows webp, v4 did not
])
async def test_refused_uploads_store_nothing(proxy, sandbox_store, fields, file, status, key):
    before = len(list(sandbox_store.table("documents")))
    response = await proxy.post("/api/v1/documents", data=form(*fields, file=file))
    assert response.status == status, await response.text()
    assert key in (await response.json())["errors"]
    assert len(list(sandbox_store.table("documents"))) == before


@pytest.mark.parametrize("parent, status, body", [
    ("99999", 404, {"message": "record does not exist"}),
    ("abc", 422, {"message": "The given data was invalid.",
                  "errors": {"invoice_id": ["The invoice_id must be an integer."]}}),
])
async def test_unknown_or_bad_parent(proxy, sandbox_store, parent, status, body):
    before = len(list(sandbox_store.table("documents")))
    response = await proxy.post("/api/v1/documents", data=form(("invoice_id", parent), file=("a.txt", b"x")))
    assert response.status == status and await response.json() == body
    assert len(list(sandbox_store.table("documents"))) == before


async def test_json_body_is_refused(proxy):
    response = await proxy.post("/api/v1/documents", json={"invoice_id": 202})
    assert response.status == 422 and "file" in (await response.json())["errors"]


async def test_declared_body_over_the_limit_is_413(small_limit_proxy, sandbox_store):
    before = len(list(sandbox_store.table("documents")))
    response = await small_limit_proxy.post("/api/v1/documents", data=form(
        ("invoice_id", "202"), file=("big.txt", b"x" * (LIMIT + 1))))
    assert response.status == 413 and "limit" in (await response.json())["error"]["message"]
    assert len(list(sandbox_store.table("documents"))) == before


def multipart_head(boundary: str, parent: str = "202") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"invoice_id\"\r\n\r\n{parent}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode()


async def test_chunked_body_growing_past_the_limit_aborts_the_upload(small_limit_proxy, sandbox_store):
    # No Content-Length: the limit is only found out mid-stream, after v5 got the first chunks.
    boundary = "b0undary"

    async def body():
        yield multipart_head(boundary)
        for _ in range(8):
            yield b"x" * (16 * 1024)
            await asyncio.sleep(0.01)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await small_limit_proxy.post(
        "/api/v1/documents", data=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status == 413
    await asyncio.sleep(0.2)
    assert documents_of(sandbox_store, "invoices", 202) == []  # v5 kept no partial file


@pytest.mark.v4_route("POST /api/v1/documents")
async def test_client_cut_mid_file_leaves_nothing_upstream(proxy, sandbox_store):
    boundary = "cutb0undary"
    head = multipart_head(boundary)
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(f"POST /api/v1/documents HTTP/1.1\r\nHost: {proxy.host}\r\nX-Ninja-Token: {SANDBOX_TOKEN}\r\n"
                 f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                 f"Content-Length: {len(head) + 10 * 1024 * 1024}\r\n\r\n".encode() + head + b"y" * 300_000)
    await writer.drain()
    await asyncio.sleep(0.3)  # the proxy has started the upstream upload by now
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.5)
    assert documents_of(sandbox_store, "invoices", 202) == []
    ok = await proxy.post("/api/v1/documents", data=form(("invoice_id", "202"), file=("after.txt", b"ok")))
    assert ok.status == 200  # and the proxy carries on


# A v5 stand-in that tells when the first file bytes reached it: the v4 client holds back the rest
# of its file until then, which a proxy that buffered the file would never let happen.

def recording_upstream(first_bytes: asyncio.Event) -> web.Application:
    key = H(202)

    async def show(request: web.Request) -> web.Response:
        return web.json_response({"data": {"id": key, "documents": []}})

    async def upload(request: web.Request) -> web.Response:
        seen = b""
        while chunk := await request.content.read(4096):
            seen += chunk
            if b"FIRSTHALF" in seen:
                first_bytes.set()
        assert b'name="_method"' in seen and b"PUT" in seen and b'name="documents[]"' in seen
        document = {"id": H(9), "name": "big.txt", "type": "txt", "size": seen.count(b"z"), "hash": "h",
                    "created_at": 1, "updated_at": 1}
        return web.json_response({"data": {"id": key, "documents": [document]}})

    app = web.Application()
    app.router.add_get(f"/api/v1/invoices/{key}", show)
    app.router.add_post(f"/api/v1/invoices/{key}/upload", upload)
    return app


@pytest.mark.v4_route("POST /api/v1/documents")
async def test_file_reaches_v5_before_the_client_finished_sending(aiohttp_server, aiohttp_client):
    first_bytes = asyncio.Event()
    upstream = await aiohttp_server(recording_upstream(first_bytes), host="127.0.0.1")
    settings = load_settings(upstream=str(upstream.make_url("")).rstrip("/"), upstream_total_timeout=10)
    client = await aiohttp_client(create_app(settings), headers=V4_AUTH)
    boundary = "str3am"

    async def body():
        yield multipart_head(boundary) + b"FIRSTHALF" + b"z" * 100_000
        await asyncio.wait_for(first_bytes.wait(), 5)  # times out if the proxy buffers
        yield b"z" * 100_000 + f"\r\n--{boundary}--\r\n".encode()

    response = await client.post("/api/v1/documents", data=body(),
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status == 200, await response.text()
    document = (await response.json())["data"]
    assert document["size"] == 200_000 and document["invoice_id"] == 202 and document["id"] == 9


PARENT_PART = b'--xyz\r\nContent-Disposition: form-data; name="invoice_id"\r\n\r\n202\r\n'
FILE_HEAD = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'


@pytest.mark.parametrize("content_type, body, status", [
    ("multipart/form-data", b"garbage", 400),  # no boundary
    ("multipart/form-data; boundary=xyz", b"garbage", 400),
    ("multipart/form-data; boundary=xyz", PARENT_PART + b"--xyz--\r\n", 422),  # no file
    # the body ends inside the file, with no closing boundary: spooled (file first) or streamed
    ("multipart/form-data; boundary=xyz", FILE_HEAD + b"abc", 400),
    ("multipart/form-data; boundary=xyz", PARENT_PART + FILE_HEAD + b"abc", 400),
])
async def test_malformed_multipart_is_refused_and_stores_nothing(proxy, sandbox_store, content_type, body, status):
    response = await proxy.post("/api/v1/documents", data=body, headers={"Content-Type": content_type})
    assert response.status == status, await response.text()
    assert documents_of(sandbox_store, "invoices", 202) == []
