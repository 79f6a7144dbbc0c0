"""A tenant's URLs (config.urls_tenants) plus yardstick R: a DRF view that returns a constant.

R goes through everything a REST read goes through -- the ASGI layers, the tenant middleware and
every other middleware, DRF's request, content negotiation and rendering -- but has no
authentication, no permission, no throttle and no query of its own. Its latency is the REST
stack's floor, to compare with N (the MCP SDK's floor).
"""

from typing import Any

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls_tenants import handler500
from config.urls_tenants import urlpatterns as tenant_urlpatterns

CONSTANT = {"sku": "R", "found": True, "quantity": 1, "restock_date": None}


class ConstantView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(CONSTANT)


urlpatterns = [path("bench/constant", ConstantView.as_view()), *tenant_urlpatterns]
__all__ = ["handler500", "urlpatterns"]
