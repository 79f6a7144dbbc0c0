"""URLs served on the public schema's host: the platform (public) admin only."""

from django.urls import path

from tenancy.admin_sites import public_admin_site

urlpatterns = [
    path("admin/", public_admin_site.urls),
]

# A database outage outside a REST view is a 503 in the API's error shape, not an HTML 500.
handler500 = "inventory.api.errors.server_error"
