"""URLs served on hosts that are not a tenant domain: the public admin."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]

# A database outage outside a REST view is a 503 in the API's error shape, not an HTML 500.
handler500 = "inventory.api.errors.server_error"
