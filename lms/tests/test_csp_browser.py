"""The browser fixtures fail a test whose pages break the Content-Security-Policy."""

import pytest

pytestmark = pytest.mark.browser


def test_a_blocked_inline_script_is_reported(page, csp_violations):
    body = "<!doctype html><p>x</p><script>document.title = 'ran';</script>"
    page.route(
        "http://csp.example/",
        lambda route: route.fulfill(
            status=200, body=body, headers={"Content-Type": "text/html", "Content-Security-Policy": "script-src 'self'"}
        ),
    )
    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.goto("http://csp.example/")

    assert page.title() != "ran"  # Chromium blocked it...
    assert any("script-src" in v for v in csp_violations), csp_violations  # ...and the test hears of it
    csp_violations.clear()  # this test wanted the violation


def test_the_login_page_works_under_the_policy(page, live_server, csp_violations):
    response = page.goto(f"{live_server.url}/accounts/login/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Please enter a correct username and password").wait_for()
    assert csp_violations == []
