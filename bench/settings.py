"""The product's settings plus the bench's own URLs (a bare view the product must not serve).

Used by the server the benchmarks start: DJANGO_SETTINGS_MODULE=bench.settings wins over the
`setdefault` in telesante.asgi and telesante.cli.
"""

from telesante.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
