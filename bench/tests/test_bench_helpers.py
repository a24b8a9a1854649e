"""The benchmark's own helpers: the docs section writer, the wrk load runner, /proc readings."""

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.benchmarks_doc import section_write
from bench.machine import rss_mb
from bench.wrkload import run_wrk


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


def test_load_generator_refuses_anything_but_loopback():
    with pytest.raises(ValueError, match="loopback"):
        run_wrk(host="example.com", port=80, plan=[("/", "")], expect_text="x", connections=1, seconds=1)


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn behind wrk
    seen: list = []

    def do_GET(self):
        _Answers.seen.append((self.path, self.headers.get("Cookie", "")))
        if self.path.startswith("/join"):
            target = "https://zoom.example.com/j/1" if self.headers.get("Cookie") else "/accounts/login/?next=/join"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"right page" if self.path.startswith("/good") else b"login form"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Answers.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_wrk_loads_a_page_with_its_cookie_for_the_time_given(server):
    result = run_wrk(
        host="127.0.0.1", port=server, plan=[("/good", "a=b")], expect_text="right page", connections=2, seconds=1
    )
    assert result.requests > 10
    assert result.errors == 0
    assert 0 < result.percentile_ms(50) <= result.percentile_ms(99) <= result.percentile_ms("max")
    assert result.rps > 0
    assert {cookie for _path, cookie in _Answers.seen} == {"a=b"}


def test_wrk_counts_a_wrong_page_and_a_login_redirect_as_errors(server):
    wrong = run_wrk(
        host="127.0.0.1", port=server, plan=[("/other", "")], expect_text="right page", connections=1, seconds=1
    )
    assert wrong.requests > 0 and wrong.errors == wrong.answered
    assert "login form" in wrong.error_samples[0]

    login = run_wrk(
        host="127.0.0.1",
        port=server,
        plan=[("/join", "")],
        expect_location="https://zoom.example.com/",
        connections=1,
        seconds=1,
    )
    assert login.errors == login.answered > 0
    assert "/accounts/login/" in login.error_samples[0]


def test_wrk_sends_a_plan_once_each_request_with_its_own_cookie(server):
    plan = [(f"/join/{i}", f"sessionid=s{i}") for i in range(40)]
    result = run_wrk(
        host="127.0.0.1",
        port=server,
        plan=plan,
        expect_location="https://zoom.example.com/",
        connections=4,
        seconds=2,
        once=True,
    )
    assert result.errors == 0
    assert result.answered == 40 and result.repeats == 0
    assert result.finished_at is not None
    sent = {}
    for path, cookie in _Answers.seen:
        sent.setdefault(path, set()).add(cookie)
    assert set(sent) == {path for path, _cookie in plan}
    assert all(sent[path] == {cookie} for path, cookie in plan)


def test_rss_of_this_process_is_read_from_proc():
    memory = rss_mb(os.getpid())
    assert 1 < memory["rss_mb"] <= memory["peak_rss_mb"]


def test_the_burst_plan_gives_each_connection_one_learners_page_then_their_click():
    from bench.burst import burst_plan

    people = [f"l{i}" for i in range(6)]
    cookies = {name: f"sessionid={name}" for name in people}
    plan = burst_plan(people, cookies, event_path="/event", join_path="/join", connections=3)

    # wrk's connection k (1-based) takes the plan's items k, k + 3, k + 6, ...
    for k in range(1, 4):
        taken = plan[k - 1 :: 3]
        assert [path for path, _ in taken] == ["/event", "/join", "/event", "/join"]
        assert taken[0][1] == taken[1][1] and taken[2][1] == taken[3][1] != taken[0][1]
    assert sorted({cookie for _, cookie in plan}) == sorted(cookies.values())
