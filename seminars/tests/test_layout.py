"""The layout: log in/out, the header menus, the notifications bell and page, the profile."""

import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from seminars.models import Notification, Profile
from seminars.tests.conftest import PASSWORD, field_error

# Playwright's sync API runs an event loop in the test thread; the ORM calls of fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(reverse("seminars:dashboard"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_log_in_page_and_logging_in(client, learner):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode() and "Log in" in page.content.decode()

    response = client.post(reverse("login"), {"username": "lena", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("seminars:dashboard")


@pytest.mark.parametrize("debug,shown", [(True, True), (False, False)])
def test_demo_logins_are_named_on_development_sites_only(client, db, settings, debug, shown):
    settings.DEBUG = debug

    html = client.get(reverse("login")).content.decode()

    assert ("Trying the demo?" in html) is shown


def test_wrong_password_says_so(client, learner):
    response = client.post(reverse("login"), {"username": "lena", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_empty_log_in_form_marks_the_fields(client, db):
    response = client.post(reverse("login"), {"username": "", "password": ""})

    assert response.content.decode().count("This field is required.") == 2


def test_log_out_is_a_post_form_and_works(client, learner):
    client.force_login(learner)
    html = client.get(reverse("seminars:dashboard")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in html

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("seminars:dashboard")).status_code == 302


def test_header_for_a_learner(client, learner):
    client.force_login(learner)

    html = client.get(reverse("seminars:dashboard")).content.decode()

    assert "My sessions" in html and "Courses" in html
    assert "Lena" in html and "Profile" in html
    assert "Site administration" not in html
    assert ">Rooms<" not in html


def test_header_for_a_site_admin_has_the_admin_menu(client, site_admin):
    client.force_login(site_admin)

    response = client.get(reverse("seminars:dashboard"))

    html = response.content.decode()
    assert "Site administration" in html
    labels = [label for label, _url in response.context["admin_menu"]]
    assert labels == [
        "Add a new course",
        "Rooms",
        "Room handovers",
        "Email templates",
        "Django admin",
        "Plugins > Virtual meetings",
        "Plugins > Virtual meetings > Zoom Meeting",
        "Plugins > Virtual meetings > Microsoft Teams",
    ]
    assert dict(response.context["admin_menu"])["Django admin"] == reverse("admin:index")
    # The providers' entries come from the registered providers: the framework's settings page for each.
    zoom_page = reverse("virtualmeeting:settings", args=["zoom"])
    assert dict(response.context["admin_menu"])["Plugins > Virtual meetings > Zoom Meeting"] == zoom_page
    assert f'href="{reverse("admin:index")}"' in html


@pytest.mark.parametrize(
    ("url", "active"),
    [
        (reverse("seminars:courses"), "courses"),
        (reverse("seminars:site_rooms"), "rooms"),
        (reverse("seminars:handovers"), ""),  # Site administration's: was shown as Courses
        (reverse("seminars:email_templates"), ""),
    ],
)
def test_the_header_marks_the_section_a_page_belongs_to(client, site_admin, url, active):
    client.force_login(site_admin)

    response = client.get(url)

    assert response.context["nav_active"] == active
    assert ('aria-current="page"' in response.content.decode()) is bool(active)


def test_admin_menu_takes_extra_entries_from_settings(client, site_admin, settings):
    settings.SEMINARS_ADMIN_MENU = [
        ("Plugins > Virtual meetings > Zoom Meeting", "seminars:profile"),
        ("Not installed", "nowhere:settings"),
    ]
    client.force_login(site_admin)

    response = client.get(reverse("seminars:courses"))

    menu = dict(response.context["admin_menu"])
    assert menu["Plugins > Virtual meetings > Zoom Meeting"] == reverse("seminars:profile")
    assert "Not installed" not in menu
    assert "Plugins &gt; Virtual meetings &gt; Zoom Meeting" in response.content.decode()


def test_bell_shows_the_unread_count_and_recent_notifications(client, learner):
    Notification.objects.create(user=learner, subject="Event cancelled: Spring intake")
    Notification.objects.create(user=learner, subject="Old news", read_at=timezone.now())
    client.force_login(learner)

    html = client.get(reverse("seminars:courses")).content.decode()

    assert '<span class="count">1</span>' in html
    assert "Event cancelled: Spring intake" in html and "Old news" in html


def test_a_notification_says_how_long_ago_it_came_and_just_now_in_its_first_minute(client, learner):
    now = timezone.now()
    fresh = Notification.objects.create(user=learner, subject="Fresh")
    older = Notification.objects.create(user=learner, subject="Older")
    Notification.objects.filter(pk=older.pk).update(created_at=now - timedelta(minutes=3, seconds=5))
    Notification.objects.filter(pk=fresh.pk).update(created_at=now - timedelta(seconds=20))
    client.force_login(learner)

    for url in (reverse("seminars:dashboard"), reverse("seminars:notifications")):
        html = client.get(url).content.decode()
        assert "just now" in html and "3 minutes ago" in html, url
        assert "0 minutes" not in html


def test_bell_shows_only_my_notifications(client, learner, learner2):
    Notification.objects.create(user=learner2, subject="For Leo only")
    client.force_login(learner)

    html = client.get(reverse("seminars:courses")).content.decode()

    assert "For Leo only" not in html
    assert 'class="count"' not in html


def test_notifications_page_lists_and_marks_read(client, learner):
    note = Notification.objects.create(user=learner, subject="Booked", body="See you there.")
    client.force_login(learner)

    first = client.get(reverse("seminars:notifications")).content.decode()
    note.refresh_from_db()
    second = client.get(reverse("seminars:notifications")).content.decode()

    assert "Booked" in first and "See you there." in first and ">New<" in first
    assert note.read_at is not None
    assert ">New<" not in second


def test_opening_a_notification_marks_it_read_and_follows_a_local_link(client, learner):
    note = Notification.objects.create(user=learner, subject="Booked", url="/courses/")
    client.force_login(learner)

    response = client.get(reverse("seminars:notification_open", args=[note.pk]))

    assert response["Location"] == "/courses/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notification_never_redirects_off_site(client, learner):
    note = Notification.objects.create(user=learner, subject="Phish", url="https://evil.example/login")
    client.force_login(learner)

    response = client.get(reverse("seminars:notification_open", args=[note.pk]))

    assert response["Location"] == reverse("seminars:notifications")


def test_someone_elses_notification_is_not_found(client, learner, learner2):
    note = Notification.objects.create(user=learner2, subject="Private")
    client.force_login(learner)

    assert client.get(reverse("seminars:notification_open", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


# ---- Profile -------------------------------------------------------------------------------------


def test_profile_saves_a_valid_time_zone(client, learner):
    client.force_login(learner)

    response = client.post(reverse("seminars:profile"), {"time_zone": "Asia/Tokyo"})

    assert response.status_code == 302
    assert Profile.objects.get(user=learner).time_zone == "Asia/Tokyo"
    assert 'value="Asia/Tokyo"' in client.get(reverse("seminars:profile")).content.decode()


@pytest.mark.parametrize(
    "zone,message", [("Mars/Olympus_Mons", "is not a time zone we know"), ("", "Enter a time zone")]
)
def test_profile_refuses_an_unknown_time_zone_next_to_the_field(client, learner, zone, message):
    Profile.objects.create(user=learner, time_zone="Europe/London")
    client.force_login(learner)

    response = client.post(reverse("seminars:profile"), {"time_zone": zone})

    assert response.status_code == 200
    assert message in field_error(response.content.decode(), "time_zone")
    assert Profile.objects.get(user=learner).time_zone == "Europe/London"


def test_profile_has_an_extension_point_for_connections(client, learner, settings, tmp_path):
    (tmp_path / "extra_section.html").write_text('<section class="card" id="zoom">Disconnect Zoom</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    settings.SEMINARS_PROFILE_SECTIONS = ["extra_section.html"]
    client.force_login(learner)

    html = client.get(reverse("seminars:profile")).content.decode()

    assert "Disconnect Zoom" in html


def test_pages_link_the_stylesheet_and_script(client, learner):
    client.force_login(learner)

    html = client.get(reverse("seminars:dashboard")).content.decode()

    assert "/static/css/site.css" in html and "/static/js/site.js" in html
    assert "cdn" not in html.lower()


def test_forbidden_and_not_found_pages_use_the_layout(client, course, learner, settings):
    settings.DEBUG = False
    client.force_login(learner)

    forbidden = client.get(reverse("seminars:course_edit", args=[course.pk]))
    missing = client.get(reverse("seminars:course", args=[course.pk + 100]))

    assert forbidden.status_code == 403
    assert "Only editing trainers and site admins may change this." in forbidden.content.decode()
    assert "My sessions" in forbidden.content.decode()
    assert missing.status_code == 404
    assert "Page not found" in missing.content.decode()


# ---- In a real browser ---------------------------------------------------------------------------


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My sessions")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_site_admin_creates_a_course_with_a_seminar_and_enrols_a_trainer(page, live_server, site_admin, outsider):
    _log_in(page, live_server, site_admin.username)

    page.get_by_text("Site administration", exact=True).click()
    page.get_by_role("menuitem", name="Add a new course").click()
    page.get_by_role("button", name="Create course").click()
    expect(page.get_by_text("Enter the course's full name.")).to_be_visible()
    page.get_by_label("Course full name").fill("Manual handling")
    page.get_by_role("button", name="Create course").click()
    expect(page.get_by_role("heading", name="Manual handling")).to_be_visible()

    page.get_by_text("Add an activity", exact=True).click()
    page.get_by_role("menuitem", name="Seminar").click()
    page.get_by_label("Name").fill("Lifting safely")
    page.get_by_role("button", name="Save and display").click()
    expect(page.get_by_role("heading", name="Lifting safely")).to_be_visible()
    expect(page.get_by_role("link", name="Add event")).to_be_visible()

    page.get_by_role("link", name="Manual handling").click()
    page.get_by_role("link", name="Participants").click()
    page.get_by_label("Username or email").fill("otto@example.com")
    page.get_by_label("Role", exact=True).select_option(label="Editing trainer")
    page.get_by_role("button", name="Enrol user").click()
    expect(page.get_by_text("Enrolled otto as editing trainer.")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bell_lists_a_notification_and_the_menus_close_on_outside_click(page, live_server, learner):
    Notification.objects.create(user=learner, subject="Your event moved", url="/courses/")
    _log_in(page, live_server, learner.username)
    bell = page.get_by_label("Notifications: 1 unread")

    bell.click()
    expect(page.get_by_role("link", name="Your event moved")).to_be_visible()
    page.get_by_role("heading", name="My sessions").click()
    expect(page.get_by_role("link", name="Your event moved")).to_be_hidden()

    bell.click()
    page.get_by_role("link", name="Your event moved").click()
    expect(page.get_by_role("heading", name="Courses")).to_be_visible()
    expect(page.get_by_label("Notifications", exact=True)).to_be_visible()  # no unread count any more
