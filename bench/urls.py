"""Every product URL, plus `/bench/bare`: the baseline the benchmarks compare against."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def bare(request: HttpRequest) -> JsonResponse:
    """A small JSON dict through the same server, middleware and sync-view path as the API."""
    return JsonResponse({"status": "ok", "service": "telesante", "version": 1})


urlpatterns = [
    path("bench/bare", bare, name="bench_bare"),
    path("", include("telesante.urls")),
]
