from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from virtualmeeting_zoom import views

app_name = "virtualmeeting_zoom"

urlpatterns = [
    path("webhook", views.webhook, name="webhook"),
    # A name for menus ("Plugins > Virtual meetings > Zoom Meeting"); the page is the framework's.
    path(
        "settings",
        RedirectView.as_view(url=reverse_lazy("virtualmeeting:settings", args=["zoom"]), permanent=False),
        name="settings",
    ),
]
