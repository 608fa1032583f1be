"""Mount with ``path("easycars/health/", include("wagtail_easycars.health.urls"))``."""

from django.urls import path

from . import views

app_name = "wagtail_easycars_health"

urlpatterns = [
    path("", views.health, name="health"),
    path("live/", views.live, name="live"),
]
