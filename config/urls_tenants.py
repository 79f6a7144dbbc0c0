"""URLs served on a tenant's domain: the tenant admin and the REST API."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
