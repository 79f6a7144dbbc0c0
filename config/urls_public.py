"""URLs served on the public schema's host: the platform (public) admin only."""

from django.urls import path

from inventory.tenancy.admin_sites import public_admin_site

urlpatterns = [
    path("admin/", public_admin_site.urls),
]
