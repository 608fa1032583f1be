"""URLs of a headless site: the package's vehicles endpoint on a Wagtail API v2 router."""

from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.api.v2.router import WagtailAPIRouter

from wagtail_easycars.showroom.api import VehiclesAPIViewSet

api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("vehicles", VehiclesAPIViewSet)

urlpatterns = [
    path("api/v2/", api_router.urls),
    path("", include(wagtail_urls)),
]
