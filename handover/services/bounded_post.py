"""One HTTP request that ends within a time limit, in all.

urllib's ``timeout`` bounds each wait on the socket, not the request: an endpoint that sends
its answer a byte every few seconds never trips it, and held a worker's thread for as long as
it liked; a few of them held every thread, and the e-mail notices and the scheduled jobs
waited behind them. Here a timer shuts the request's socket when the time is up, which ends
whatever wait the request is in. Still urllib's opener, so a proxy in the environment
(``HTTPS_PROXY``) and redirect handling are as before.
"""

import http.client
import socket
import threading
import urllib.error
import urllib.request
from typing import Any


class TookTooLong(OSError):
    """The request did not finish within its time."""


class _Connections:
    """The connections a request opened, to shut when its time is up."""

    def __init__(self) -> None:
        self.opened: list[http.client.HTTPConnection] = []
        self.shut = False

    def made(self, connection_class: type[http.client.HTTPConnection]) -> Any:
        def connection(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            made = connection_class(*args, **kwargs)
            self.opened.append(made)
            return made
        return connection

    def shut_all(self) -> None:
        self.shut = True
        for connection in self.opened:
            if connection.sock is not None:
                try:
                    connection.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass   # closed already: nothing to end


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, connections: _Connections) -> None:
        super().__init__()
        self.connections = connections

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self.connections.made(http.client.HTTPConnection), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, connections: _Connections) -> None:
        super().__init__()
        self.connections = connections

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(self.connections.made(http.client.HTTPSConnection), req,
                            context=self._context)   # type: ignore[attr-defined]


def status_of(request: urllib.request.Request, seconds: float,
              *handlers: urllib.request.BaseHandler) -> int:
    """The status of the answer to ``request`` (an HTTP error's too), all of it within
    ``seconds``; `TookTooLong` when it did not end in time, another `OSError` when there was
    no answer."""
    connections = _Connections()
    opener = urllib.request.build_opener(_HTTP(connections), _HTTPS(connections), *handlers)
    timer = threading.Timer(seconds, connections.shut_all)
    timer.daemon = True
    timer.start()
    try:
        with opener.open(request, timeout=seconds) as answer:  # noqa: S310  (callers check)
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        status = int(error.code)
    except (OSError, http.client.HTTPException) as error:
        if connections.shut:
            raise TookTooLong(f"no answer within {seconds:g} s") from error
        if isinstance(error, OSError):
            raise
        raise OSError(str(error)) from error
    finally:
        timer.cancel()
    if connections.shut:
        # Shut in the middle of the answer's headers, the end of the stream reads as their
        # end: a status was read, but not an answer that was whole in time.
        raise TookTooLong(f"no whole answer within {seconds:g} s")
    return status
