"""Every URL route of the project is driven by a fuzz test, or is excluded here with the reason.

A new endpoint fails this test until a fuzz test names it with `@fuzzes(...)`.
"""

import importlib
import pkgutil

from django.urls import URLPattern, URLResolver, get_resolver

import tests.fuzz

# Routes no fuzz test drives, and why.
EXCLUDED_NAMESPACES = {
    # Django's admin: its forms, views and permission checks are Django's own, reached only by
    # staff; our models' validators, which it runs, are fuzzed through our own forms.
    "admin",
}
EXCLUDED_ROUTES: set[str] = set()


def project_routes() -> set[str]:
    """ "namespace:name" of every named URL pattern, outside the excluded namespaces."""
    routes = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                if pattern.namespace not in EXCLUDED_NAMESPACES:
                    walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"unnamed route {pattern.pattern}: name it so fuzz tests can reach it"
                routes.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "")
    return routes


def fuzzed_routes(*, leave_out: tuple[str, ...] = ()) -> set[str]:
    """The routes named by @fuzzes on the tests of this package (but the modules left out)."""
    routes = set()
    for module_info in pkgutil.iter_modules(tests.fuzz.__path__):
        if not module_info.name.startswith("test_") or module_info.name in leave_out:
            continue
        module = importlib.import_module(f"tests.fuzz.{module_info.name}")
        for value in vars(module).values():
            routes.update(getattr(value, "fuzzed_routes", ()))
    return routes


def test_every_route_is_fuzzed_or_excluded_with_a_reason():
    expected = project_routes() - EXCLUDED_ROUTES
    fuzzed = fuzzed_routes()
    assert sorted(expected - fuzzed) == [], "routes no fuzz test drives: add them to a fuzz test"
    assert sorted(fuzzed - expected) == [], "fuzz tests name routes the project does not have (or excludes)"


def test_the_form_endpoints_have_their_own_field_by_field_fuzz_test():
    """test_paths reaches every route with stray fields; the routes that take input also get a test
    that sends hostile values in each of their own fields."""
    forms = {
        "seminars:course_add",
        "seminars:course_edit",
        "seminars:seminar_add",
        "seminars:seminar_edit",
        "seminars:participants",
        "seminars:participant_role",
        "seminars:profile",
        "seminars:event_add",
        "seminars:event_edit",
        "seminars:site_room_add",
        "seminars:site_room_edit",
        "seminars:rooms_available",
        "seminars:account_users",
        "seminars:attendance",
        "seminars:booking_cancel",
        "seminars:event_cancel",
        "seminars:attendees_preview",
        "seminars:attendees_add",
        "seminars:attendee_remove",
        "seminars:attendee_move",
        "seminars:email_template_edit",
        "seminars:seminar_email_edit",
        "seminars:seminar_email_switch",
        "seminars:approvals_decide",
        "virtualmeeting:settings",
        "virtualmeeting:auth_callback",
        "virtualmeeting:auth_callback_legacy",
        "virtualmeeting:disconnect",
        "virtualmeeting_zoom:webhook",
        "login",
    }
    assert sorted(forms - fuzzed_routes(leave_out=("test_paths",))) == []
