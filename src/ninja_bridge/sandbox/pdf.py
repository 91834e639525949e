"""A small but valid PDF for invoice/quote/credit downloads, streamed in chunks like v5's streamDownload."""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

CHUNK_SIZE = 64 * 1024


def escape_pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(lines: list[str], pad_to: int = 0) -> bytes:
    """One page of Helvetica text. `pad_to` grows the file with a comment before the trailer
    (still a valid PDF) so streaming can be tested with large bodies."""
    text_ops = ["BT", "/F1 14 Tf", "72 770 Td", "18 TL"]
    for line in lines:
        text_ops.append(f"({escape_pdf_text(line.encode('latin-1', 'replace').decode('latin-1'))}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    padding = b""
    for _ in range(3):  # the xref offset's digit count can change the tail length; settle it
        tail = xref_and_trailer(offsets, len(body) + len(padding))
        padding = comment_padding(pad_to - len(body) - len(tail))
    return bytes(body) + padding + xref_and_trailer(offsets, len(body) + len(padding))


def xref_and_trailer(offsets: list[int], xref_at: int) -> bytes:
    size = len(offsets) + 1
    xref = b"xref\n0 %d\n0000000000 65535 f \n" % size + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return xref + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)


def comment_padding(length: int) -> bytes:
    """`length` bytes of PDF comment lines (readers skip comments between objects)."""
    if length <= 0:
        return b""
    lines = []
    remaining = length
    while remaining > 0:
        line_length = min(80, remaining)
        lines.append(b"%" + b"x" * (line_length - 2) + b"\n" if line_length >= 2 else b"\n")
        remaining -= line_length
    return b"".join(lines)


TOKEN_FILENAME = re.compile(r"^[a-z0-9!#$%&'*.^_`|~-]+$", re.IGNORECASE)


def attachment_disposition(filename: str) -> str:
    """Laravel's streamDownload header (Symfony makeDisposition): the name is quoted only when needed."""
    fallback = filename.encode("ascii", "ignore").decode() or "download"
    if TOKEN_FILENAME.match(fallback):
        header = f"attachment; filename={fallback}"
    else:
        escaped = fallback.replace("\\", "\\\\").replace('"', '\\"')
        header = f'attachment; filename="{escaped}"'
    if fallback != filename:
        header += f"; filename*=utf-8''{quote(filename, safe='')}"
    return header


async def stream_bytes(request: web.Request, data: bytes, content_type: str, filename: str) -> web.StreamResponse:
    """Streams `data` in chunks, as v5's response()->streamDownload() does."""
    response = web.StreamResponse(headers={
        "Content-Type": content_type,
        "Content-Disposition": attachment_disposition(filename),
    })
    response.content_length = len(data)
    await response.prepare(request)
    for start in range(0, len(data), CHUNK_SIZE):
        await response.write(data[start:start + CHUNK_SIZE])
    await response.write_eof()
    return response
