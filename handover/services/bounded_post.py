"""One HTTP request that ends within a time limit, in all (`deadlines.Deadline`).

urllib's ``timeout`` bounds each wait on the socket, not the request: an endpoint that sends
its answer a byte every few seconds never trips it. Here each connection the request opens
is given only the time left to connect, and is shut when the time is up. Still urllib's
opener, so a proxy in the environment (``HTTPS_PROXY``) and redirect handling are as before.
"""

import http.client
import ssl
import urllib.error
import urllib.request
from typing import Any

from handover.services.deadlines import Deadline


class TookTooLong(OSError):
    """The request did not finish within its time."""


def _in_time(deadline: Deadline,
             base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
    """``base`` whose connections connect within the time left and are shut when it is up."""
    class InTime(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            self.timeout = deadline.remaining()
            super().connect()
            deadline.watch(lambda: self.sock)
    return InTime


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_in_time(self.deadline, http.client.HTTPConnection), req)


class _HTTPS(urllib.request.HTTPSHandler):
    """Certificates checked as urllib checks them by default (the system's authorities,
    ``SSL_CERT_FILE``), with the context held here rather than read back from urllib."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.tls = ssl.create_default_context()
        super().__init__(context=self.tls)

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_in_time(self.deadline, http.client.HTTPSConnection), req,
                            context=self.tls)


def status_of(request: urllib.request.Request, seconds: float,
              *handlers: urllib.request.BaseHandler) -> int:
    """The status of the answer to ``request`` (an HTTP error's too), all of it within
    ``seconds``; `TookTooLong` when it did not end in time, another `OSError` when there was
    no answer."""
    with Deadline(seconds) as deadline:
        opener = urllib.request.build_opener(_HTTP(deadline), _HTTPS(deadline), *handlers)
        try:
            with opener.open(request, timeout=seconds) as answer:  # noqa: S310  (callers check)
                status = int(answer.status)
        except urllib.error.HTTPError as error:
            status = int(error.code)
        except (OSError, http.client.HTTPException) as error:
            if deadline.expired:
                raise TookTooLong(f"no answer within {seconds:g} s") from error
            if isinstance(error, OSError):
                raise
            raise OSError(str(error)) from error
    if deadline.expired:
        # Shut in the middle of the answer's headers, the end of the stream reads as their
        # end: a status was read, but not an answer that was whole in time.
        raise TookTooLong(f"no whole answer within {seconds:g} s")
    return status
