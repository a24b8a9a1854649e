from django.urls import path

from virtualmeeting_zoom import views

app_name = "virtualmeeting_zoom"

urlpatterns = [
    path("webhook", views.webhook, name="webhook"),
]
