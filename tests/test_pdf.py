"""PDF rendering reads our static files and nothing else, whatever the HTML asks for."""

import base64
import io
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest

from intake.pdf import BASE_URL, STATIC_ROOT, RefusedResource, StaticFetcher, render_pdf

# A 1×1 PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d4944415478da63f8cfc0f01f0005000201e7b1a3"
        "2c0000000049454e44ae426082"
    )
).decode()


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def every_byte_of(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated, so nothing hides in one."""
    inflated = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            inflated.append(zlib.decompress(stream))
        except zlib.error:
            pass
    return b"\n".join(inflated)


@pytest.fixture
def http_server():
    """A local HTTP server that records every request it gets."""
    requests: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_a_page_renders_and_its_text_reads_back():
    pdf = render_pdf(
        "<html><head><style>@page { size: A4 }</style></head><body>"
        "<h1>Deal summary</h1><p>Acme GmbH — leader: Northwind Technologies</p></body></html>"
    )
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Deal summary" in text and "Acme GmbH" in text and "Northwind Technologies" in text


def test_customer_text_cannot_make_the_renderer_read_a_file_or_call_a_server(tmp_path, http_server):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    stylesheet = tmp_path / "evil.css"
    stylesheet.write_text("body::after { content: 'TOP-SECRET-4711' }")
    origin, requests = http_server
    customer_text = f"""
      <link rel="stylesheet" href="file://{stylesheet}">
      <link rel="stylesheet" href="{origin}/style.css">
      <style>@import url("{origin}/import.css"); p {{ background: url("{origin}/bg.png") }}</style>
      <img src="file:///etc/passwd"><img src="file://{secret}"><img src="{origin}/pixel.png">
      <object data="file://{secret}"></object><embed src="{origin}/embed">
      <a rel="attachment" href="file://{secret}">attached</a>
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="attachment" href="{origin}/attachment.txt">
      <img src="/static/../../../../etc/passwd"><img src="/static/%2e%2e/pdf.py">
      <img src="data:text/html;base64,{base64.b64encode(b"TOP-SECRET-4711").decode()}">
      <p>Customer words</p>
    """
    pdf = render_pdf(f"<html><body>{customer_text}</body></html>")

    assert "Customer words" in text_of(pdf)
    everything = every_byte_of(pdf)
    assert b"TOP-SECRET-4711" not in everything
    assert b"root:x:0:0" not in everything
    assert b"render_pdf" not in everything  # our own source, outside the static folder
    assert pypdf.PdfReader(io.BytesIO(pdf)).attachments == {}
    assert requests == []  # the server was never called


def test_the_fetcher_serves_only_files_inside_the_static_folder():
    fetcher = StaticFetcher()
    css = fetcher.fetch(BASE_URL + "static/intake.css")
    assert css.read() == (STATIC_ROOT / "intake.css").read_bytes() and css.content_type == "text/css"
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://intake.invalid/static/intake.css",
        BASE_URL + "pdf.py",
        BASE_URL + "static/../pdf.py",
        BASE_URL + "static/%2e%2e/pdf.py",
        BASE_URL + "static/missing.css",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "ftp://example.com/x",
    ]:
        with pytest.raises(RefusedResource):
            fetcher.fetch(url)


def test_static_links_and_inline_images_are_used():
    fetcher = StaticFetcher()
    image = fetcher.fetch(f"data:image/png;base64,{PIXEL}")
    assert image.read().startswith(b"\x89PNG") and image.content_type == "image/png"

    pdf = render_pdf(
        '<html><head><link rel="stylesheet" href="/static/intake.css"></head>'
        f'<body><p>With a picture</p><img src="data:image/png;base64,{PIXEL}" width="20"></body></html>'
    )
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert "With a picture" in page.extract_text()
    assert len(page.images) == 1
