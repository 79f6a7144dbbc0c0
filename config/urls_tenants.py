"""URLs served on a tenant's domain: the tenant admin and the REST API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("inventory.api.urls")),
]
