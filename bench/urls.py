"""The LMS's URLs plus /bench/minimal/: the smallest Django view, the baseline for page throughput."""

from django.http import HttpResponse
from django.urls import include, path


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/minimal/", minimal, name="bench_minimal"),
    path("", include("lms.urls")),
]
