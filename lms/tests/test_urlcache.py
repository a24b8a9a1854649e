"""lms.urlcache: the remembered reverse gives exactly Django's URL, and forgets when the URL configuration changes."""

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import NoReverseMatch
from django.urls import reverse as django_reverse

from lms import urlcache


@pytest.fixture(autouse=True)
def _empty_memo():
    urlcache.forget()
    yield
    urlcache.forget()


def test_the_same_name_and_arguments_are_reversed_once():
    first = urlcache.reverse("seminars:event", args=[42])
    second = urlcache.reverse("seminars:event", args=[42])

    assert first == second == django_reverse("seminars:event", args=[42])
    info = urlcache._remembered.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert urlcache.reverse("seminars:event", kwargs={"pk": 43}) == django_reverse("seminars:event", args=[43])


def test_arguments_that_are_not_plain_are_reversed_every_time():
    class Pk:
        def __str__(self):
            return "7"

    assert urlcache.reverse("seminars:event", args=[Pk()]) == "/events/7/"
    assert urlcache._remembered.cache_info().currsize == 0


def test_an_unknown_name_still_raises():
    with pytest.raises(NoReverseMatch):
        urlcache.reverse("seminars:no_such_page")


def test_another_url_configuration_is_not_served_from_the_memo():
    with pytest.raises(NoReverseMatch):
        urlcache.reverse("bench_minimal")
    with override_settings(ROOT_URLCONF="bench.urls"):
        assert urlcache.reverse("bench_minimal") == "/bench/minimal/"
    with pytest.raises(NoReverseMatch):
        urlcache.reverse("bench_minimal")


def test_the_url_tag_is_the_remembered_one_and_renders_as_djangos():
    template = Template(
        "{% url 'seminars:event' pk %}|{% url 'seminars:courses' as courses %}{{ courses }}|"
        "{% url 'seminars:no_such_page' as missing %}[{{ missing }}]"
    )
    assert template.render(Context({"pk": 5})) == "/events/5/|/courses/|[]"
    assert urlcache._remembered.cache_info().currsize == 2
