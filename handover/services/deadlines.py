"""A time limit for a whole exchange with another server, not for each wait on its socket.

A socket's timeout bounds each wait: a server that answers a line every few seconds never
trips it, and held a worker's thread for as long as it liked (a webhook endpoint, a mail
server), with the other notices and the scheduled jobs waiting behind. A `Deadline` shuts the
sockets it watches when the time is up, which ends whatever wait they are in, and gives a
connection still being made only the time that is left.
"""

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType


class Deadline:
    """``with Deadline(seconds) as deadline:`` around the exchange; `watch` each socket (or a
    callable answering it, None while there is none yet); `expired` says whether the time ran
    out, which the caller reports as its own failure."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._watched: list[Callable[[], socket.socket | None]] = []
        self._timer = threading.Timer(seconds, self._shut_all)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """The time left (a sliver at least, so that a socket's timeout is never zero)."""
        return max(self.ends - time.monotonic(), 0.001)

    def watch(self, socket_of: Callable[[], socket.socket | None]) -> None:
        """Shut what ``socket_of()`` answers when the time is up (at once if it is up)."""
        self._watched.append(socket_of)
        if self.expired:
            self._shut(socket_of())

    def _shut_all(self) -> None:
        self.expired = True
        for socket_of in self._watched:
            self._shut(socket_of())

    @staticmethod
    def _shut(sock: socket.socket | None) -> None:
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return   # closed already: nothing left to end
