"""v4 document upload, ``POST /api/v1/documents`` (multipart: ``file`` plus ``invoice_id`` or
``expense_id``), onto v5's ``POST /{invoices|expenses}/{id}/upload`` (``_method=PUT``, ``documents[]``).

The file is streamed: each chunk read from the v4 client goes on to v5 before the next is read, so
memory stays flat whatever the file size. The parent is checked before anything is sent. When the
client's body is cut or grows past ``Settings.max_body_size``, the upstream request is aborted
mid-body (never ended cleanly), so v5 never stores a partial file.

Field order: v4 read the whole form, so clients may send the parent id after the file. Then the
file is spooled to a temporary file on disk (bounded by the size limit, removed at once) and sent
once the parent is known; with the parent first (the common case) nothing touches the disk.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from typing import IO, AsyncIterator

import aiohttp
from aiohttp import BodyPartReader, web

from . import errors
from .ids.translator import IdError
from .proxy import Exchange, json_response
from .translate.plan import Context
from .upstream import Upstream

DOCUMENT_ENTITY = "document"  # the v4 Document shape in mappings/
CHUNK = 64 * 1024
MAX_FIELD_BYTES = 4096  # a v4 form field is an id or a flag

# v4 Document::$types (v4-api §6.5): the extensions v4 stored; jpg/tif are aliases.
ALLOWED_TYPES = frozenset({"png", "ai", "jpeg", "jpg", "tiff", "tif", "pdf", "gif", "psd", "txt", "doc", "xls",
                           "ppt", "xlsx", "docx", "pptx"})

# v4 form field -> (v5 kind and path of the parent, v4 Document field naming it).
PARENT_FIELDS = {
    "invoice_id": ("invoice", "invoices", "invoice_id"),
    "invoice_public_id": ("invoice", "invoices", "invoice_id"),
    "expense_id": ("expense", "expenses", "expense_id"),
    "expense_public_id": ("expense", "expenses", "expense_id"),
}


@dataclass
class Parent:
    v4_id: int
    v4_field: str  # invoice_id / expense_id in the v4 Document
    path: str  # v5 record path, e.g. invoices/Opnel5aKBz
    document_ids: set[str]  # the documents it had before the upload


class UploadAborted(Exception):
    """Raised inside the upstream body to abort it; carries the answer for the v4 client."""

    def __init__(self, error: errors.V4Error) -> None:
        super().__init__(str(error))
        self.error = error


def invalid(field: str, message: str) -> errors.V4Error:
    return errors.validation_failed({field: [message]})


def file_type_error(filename: str) -> errors.V4Error | None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in ALLOWED_TYPES:
        return None
    return invalid("file", f"Unsupported file type: {extension or 'none'} (allowed: {', '.join(sorted(ALLOWED_TYPES))})")


class DocumentUpload:
    """One v4 upload request, read part by part."""

    def __init__(self, exchange: Exchange, limit: int) -> None:
        self.exchange = exchange
        self.limit = limit
        self.received = 0
        self.fields: dict[str, str] = {}

    async def handle(self) -> web.Response:
        request = self.exchange.request
        if request.content_type != "multipart/form-data":
            raise invalid("file", "Send the document as multipart/form-data with the file in `file`.")
        if request.content_length is not None and request.content_length > self.limit:
            raise errors.payload_too_large(self.limit)
        try:
            reader = await request.multipart()
        except (ValueError, AssertionError) as exc:
            raise errors.bad_request(f"The multipart body cannot be read: {exc}") from exc
        answer = None
        spool: IO[bytes] | None = None
        filename = content_type = ""
        try:
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    await part.release()
                    continue
                if part.name != "file" or answer is not None or spool is not None:
                    if part.filename is None and part.name:
                        self.fields[part.name] = await self.read_field(part)
                    else:
                        await self.drain(part)  # a second file: v4 stored only `file`
                    continue
                filename = part.filename or "document"
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                type_error = file_type_error(filename)
                if type_error is not None:
                    raise type_error
                parent = await self.parent_if_named()
                if parent is not None:
                    answer = await self.send(parent, filename, content_type, self.from_part(part))
                else:
                    spool = await self.spool(part)
            if answer is None:
                if spool is None:
                    raise invalid("file", "The file field is required.")
                parent = await self.parent_if_named()
                if parent is None:
                    raise self.no_parent()
                answer = await self.send(parent, filename, content_type, self.from_spool(spool))
        except UploadAborted as exc:
            raise exc.error from None
        except (aiohttp.ClientPayloadError, ConnectionError, ValueError) as exc:
            raise errors.bad_request(f"The upload body was cut or malformed: {type(exc).__name__}") from exc
        finally:
            if spool is not None:
                spool.close()
        return answer

    # -- the form ---------------------------------------------------------------------------

    def count(self, size: int) -> None:
        self.received += size
        if self.received > self.limit:
            raise UploadAborted(errors.payload_too_large(self.limit))

    async def read_field(self, part: BodyPartReader) -> str:
        value = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            self.count(len(chunk))
            value += chunk
            if len(value) > MAX_FIELD_BYTES:
                raise invalid(part.name or "field", f"The {part.name} field is longer than {MAX_FIELD_BYTES} bytes.")
        return value.decode("utf-8", "replace").strip()

    async def drain(self, part: BodyPartReader) -> None:
        while chunk := await part.read_chunk(CHUNK):
            self.count(len(chunk))

    async def from_part(self, part: BodyPartReader) -> AsyncIterator[bytes]:
        """The file as it arrives; any failure propagates and aborts the upstream body."""
        while True:
            try:
                chunk = await part.read_chunk(CHUNK)
            except (aiohttp.ClientPayloadError, ConnectionError, ValueError) as exc:
                raise UploadAborted(errors.bad_request(
                    f"The upload body was cut or malformed: {type(exc).__name__}")) from exc
            if not chunk:
                if not part.at_eof():  # the body ended without the part's closing boundary
                    raise UploadAborted(errors.bad_request("The upload body ended inside the file"))
                return
            self.count(len(chunk))
            yield chunk

    async def spool(self, part: BodyPartReader) -> IO[bytes]:
        spool = tempfile.TemporaryFile()
        try:
            async for chunk in self.from_part(part):
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    @staticmethod
    async def from_spool(spool: IO[bytes]) -> AsyncIterator[bytes]:
        while chunk := spool.read(CHUNK):
            yield chunk

    # -- the parent -------------------------------------------------------------------------

    def no_parent(self) -> errors.V4Error:
        # v4 kept unattached documents; v5 only stores documents on a record.
        return invalid("invoice_id", "An invoice_id or expense_id is required: v5 stores documents on a record.")

    async def parent_if_named(self) -> Parent | None:
        """The parent the fields name so far, checked on v5; None when none is named yet."""
        for field, (kind, v5_path, v4_field) in PARENT_FIELDS.items():
            raw = self.fields.get(field)
            if raw in (None, "", "0"):
                continue
            if not raw.isdigit():
                raise invalid(field, f"The {field} must be an integer.")
            try:
                v5_id = self.exchange.ids.to_v5(kind, int(raw))
            except IdError as exc:
                raise errors.record_not_found() from exc
            path = f"{v5_path}/{v5_id}"
            found = await self.exchange.fetch_json(path, query=[("include", "documents")])
            record = found.get("data") if isinstance(found, dict) else None
            if not isinstance(record, dict):
                raise errors.record_not_found()  # v4: firstOrFail on the parent
            return Parent(int(raw), v4_field, path, {d.get("id") for d in record.get("documents") or []})
        return None

    # -- v5 ---------------------------------------------------------------------------------

    async def send(self, parent: Parent, filename: str, content_type: str, chunks: AsyncIterator[bytes]):
        exchange = self.exchange
        writer = aiohttp.MultipartWriter("form-data")
        writer.append("PUT").set_content_disposition("form-data", name="_method")
        file_part = writer.append(chunks, {"Content-Type": content_type})
        file_part.set_content_disposition("form-data", name="documents[]", filename=filename)
        exchange.v5_route = f"POST /api/v1/{parent.path}/upload"
        try:
            async with exchange.upstream.open("POST", f"{parent.path}/upload", data=writer,
                                              headers=Upstream.headers(exchange.token)) as response:
                status, body = response.status, await exchange.upstream.read_json(response)
        except (errors.V4Error, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            aborted = aborted_by(exc)
            if aborted is not None:  # the client's body failed: the upstream body was aborted with it
                raise aborted.error from None
            if isinstance(exc, errors.V4Error):
                raise
            raise errors.upstream_unreachable(type(exc).__name__) from exc
        if not 200 <= status < 300:
            raise errors.from_v5(status, body, lambda key: "file" if key.startswith(("documents", "file")) else key)
        record = body.get("data") if isinstance(body, dict) else None
        document = newest_document(record, parent.document_ids)
        if document is None:
            raise errors.upstream_bad_answer("the new document is missing from v5's answer")
        context = Context(ids=exchange.ids, created=True)
        v4 = exchange.plans[DOCUMENT_ENTITY].to_v4(document, {}, context)
        v4[parent.v4_field] = parent.v4_id
        return json_response(200, {"data": v4})


def aborted_by(exc: BaseException) -> UploadAborted | None:
    """The UploadAborted behind an upstream failure (aiohttp wraps what the body generator raised)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None or isinstance(seen, UploadAborted):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def newest_document(record: object, before: set[str]) -> dict | None:
    """v5 answers the parent: the new document is the one it did not have, the newest if several."""
    if not isinstance(record, dict):
        return None
    added = [d for d in record.get("documents") or [] if isinstance(d, dict) and d.get("id") not in before]
    return max(added, key=lambda d: (d.get("created_at") or 0), default=None)
