"""URLs served on hosts that are not a tenant domain: the public admin."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
