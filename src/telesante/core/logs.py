"""The request id every log line carries. Loaded by the logging configuration, before Django's
apps: it imports nothing of them."""

import contextvars
import logging

REQUEST_ID = contextvars.ContextVar("request_id", default="")


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every log record (JSON logs carry it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True
