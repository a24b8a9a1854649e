"""The benchmark's own helpers: the docs section writer, the bounded load generator, /proc readings."""

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.benchmarks_doc import section_write
from bench.httpload import LoadResult, run_load
from bench.machine import rss_mb


def test_section_write_creates_the_file_with_its_header(tmp_path):
    doc = tmp_path / "benchmarks.md"
    section_write(doc, "Pages", "pages", "first numbers")
    text = doc.read_text()
    assert text.startswith("# Benchmarks")
    assert "## Pages\n\n<!-- generated:pages begin -->\nfirst numbers\n<!-- generated:pages end -->" in text


def test_section_write_replaces_only_its_block_and_keeps_other_sections_and_notes(tmp_path):
    doc = tmp_path / "benchmarks.md"
    section_write(doc, "Pages", "pages", "old pages")
    section_write(doc, "Memory (web)", "memory-web", "old memory")
    doc.write_text(
        doc.read_text().replace(
            "old pages\n<!-- generated:pages end -->",
            "old pages\n<!-- generated:pages end -->\n\nHand-written analysis.",
        )
    )
    section_write(doc, "Sync latency", "sync", "someone else's numbers")

    section_write(doc, "Pages", "pages", "new pages")

    text = doc.read_text()
    assert "old pages" not in text and "new pages" in text
    assert "Hand-written analysis." in text
    assert "old memory" in text and "someone else's numbers" in text
    assert text.index("## Pages") < text.index("Hand-written analysis.") < text.index("## Memory (web)")
    assert text.count("## Pages") == 1


def test_percentiles_are_nearest_rank():
    result = LoadResult(latencies=[i / 1000 for i in range(1, 101)])  # 1 ms .. 100 ms
    assert result.percentile_ms(95) == pytest.approx(95)
    assert result.percentile_ms(50) == pytest.approx(50)
    assert result.median_ms == pytest.approx(50.5)


def test_load_generator_refuses_anything_but_loopback():
    with pytest.raises(ValueError, match="loopback"):
        run_load(host="example.com", port=80, path="/", cookie="", expect=b"", concurrency=1, max_requests=1, seconds=1)


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"right page" if self.path == "/good" else b"login form"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_load_generator_stops_at_its_request_budget(server):
    result = run_load(
        host="127.0.0.1",
        port=server,
        path="/good",
        cookie="a=b",
        expect=b"right page",
        concurrency=3,
        max_requests=25,
        seconds=30,
    )
    assert result.requests == 25
    assert result.errors == 0
    assert len(result.latencies) == 25
    assert result.rps > 0


def test_load_generator_counts_a_wrong_page_as_an_error(server):
    result = run_load(
        host="127.0.0.1",
        port=server,
        path="/other",
        cookie="",
        expect=b"right page",
        concurrency=2,
        max_requests=4,
        seconds=30,
    )
    assert result.requests == 4
    assert result.errors == 4
    assert "login form" in result.error_samples[0]


def test_rss_of_this_process_is_read_from_proc():
    memory = rss_mb(os.getpid())
    assert 1 < memory["rss_mb"] <= memory["peak_rss_mb"]
