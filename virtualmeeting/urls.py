from django.urls import path

from virtualmeeting import views

app_name = "virtualmeeting"

urlpatterns = [
    path("settings/", views.settings_index, name="settings_index"),
    path("settings/<str:provider_id>/", views.provider_settings, name="settings"),
    path("settings/<str:provider_id>/check", views.provider_settings_check, name="settings_check"),
    path("connect/<str:provider_id>", views.connect, name="connect"),
    path("auth_callback/<str:provider_id>", views.auth_callback, name="auth_callback"),
    # The established LMS registered this path with Zoom; existing Zoom apps keep working.
    path("auth_callback.php/<str:provider_id>", views.auth_callback, name="auth_callback_legacy"),
    path("connection/<str:provider_id>", views.connection_status, name="connection_status"),
    path("disconnect/<str:provider_id>", views.disconnect, name="disconnect"),
]
