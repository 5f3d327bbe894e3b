"""The language of what is kept or sent to other people."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


@contextmanager
def product_language() -> Iterator[None]:
    """French (`LANGUAGE_CODE`), whatever the language of the page that causes the write.

    Notifications, messages to patients, reports, billing warnings, consents and audit details
    are read by other people and kept in the record: a professional reading the pages in English
    must not leave English in them. Refusals shown to that professional stay in their language.
    Also a decorator (a fresh override per call, so concurrent calls do not share its state).
    """
    with translation.override(settings.LANGUAGE_CODE):
        yield
