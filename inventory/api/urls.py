"""Routes of /api/v1/ on a tenant's domain (included from config/urls_tenants.py)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inventory.api import views
from inventory.api.errors import not_found

urlpatterns = [
    path("stock/<str:sku>", views.StockView.as_view(), name="api-stock"),
    path("items", views.ItemListCreateView.as_view(), name="api-items"),
    path("items/<str:sku>", views.ItemDetailView.as_view(), name="api-item"),
    path("locations", views.LocationListCreateView.as_view(), name="api-locations"),
    path("movements", views.MovementListCreateView.as_view(), name="api-movements"),
    path("restocks", views.RestockListCreateView.as_view(), name="api-restocks"),
    path(
        "restocks/<int:id>/receive", views.RestockReceiveView.as_view(), name="api-restock-receive"
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script), so the page needs no inline
    # script and runs under the Content-Security-Policy's script-src 'self'.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", not_found),  # JSON 404 for every other path under /api/v1/
]
