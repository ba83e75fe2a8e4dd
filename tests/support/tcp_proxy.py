"""A TCP proxy a test controls, to put a real service (PostgreSQL) behind a bad network.

It listens on a free 127.0.0.1 port and forwards every connection to the service. The test
can `cut()` it (every connection is closed and new ones are closed at once, as when the
service is down), `freeze()` it (sockets stay open but no byte goes through either way, as
when the service or the network hangs), and `restore()` it. A side that closes its end is
always passed on, frozen or not, so the service frees the session and its locks.
"""

from __future__ import annotations

import socket
import threading

OPEN, CUT, FROZEN = "open", "cut", "frozen"
_POLL_SECONDS = 0.05


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.state = OPEN
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, daemon=True,
                                          name="tcp-proxy-accept")
        self._acceptor.start()

    # --- what the test does ----------------------------------------------------------------

    def cut(self) -> None:
        """Close every connection; new ones are closed as soon as they are accepted."""
        self.state = CUT
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def freeze(self) -> None:
        """Keep every socket open but forward nothing, either way."""
        self.state = FROZEN

    def restore(self) -> None:
        self.state = OPEN

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)
        self._acceptor.join(timeout=5)

    # --- forwarding ------------------------------------------------------------------------

    def _accept(self) -> None:
        self._listener.settimeout(_POLL_SECONDS)
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.state == CUT:
                _close(client)
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True,
                             name="tcp-proxy-connect").start()

    def _connect(self, client: socket.socket) -> None:
        # A frozen proxy accepts but never reaches the service: the client hears nothing.
        while self.state == FROZEN and not self._closed:
            threading.Event().wait(_POLL_SECONDS)
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        with self._lock:
            if self.state == CUT:
                _close(client)
                _close(server)
                return
            self._sockets |= {client, server}
        for source, target in ((client, server), (server, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True,
                             name="tcp-proxy-pump").start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        """Copy bytes one way; while frozen, keep reading (to notice a close) but hold them."""
        held = b""
        try:
            source.settimeout(_POLL_SECONDS)
            while True:
                if held and self.state == OPEN:
                    target.sendall(held)
                    held = b""
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                held += data
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {source, target}
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
