"""URLs served on a tenant's domain: the tenant admin and the REST API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("inventory.api.urls")),
]

# A database outage outside a REST view is a 503 in the API's error shape, not an HTML 500.
handler500 = "inventory.api.errors.server_error"
