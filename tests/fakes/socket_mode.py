"""A stand-in for Slack's Socket Mode WebSocket endpoint: just enough of RFC 6455 for slack_sdk's client.

It accepts connections (the URL `apps.connections.open` hands out), says hello, answers pings, records
what the app sends (acks), delivers envelopes, and can drop every connection, as Slack does when it
moves an app to another server.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class FakeSocketMode:
    def __init__(self) -> None:
        self.connections: list[socket.socket] = []  # every accepted connection, in order
        self.received: list[dict[str, Any]] = []
        self._live: list[socket.socket] = []
        self._changed = threading.Condition()
        self._listener: socket.socket | None = None

    def start(self) -> FakeSocketMode:
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self.drop()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake-ticket&app_id=A0FAKEAPP1"

    # -- what tests do --------------------------------------------------------------------------------

    def wait_for_connections(self, count: int, timeout: float = 30.0) -> None:
        self._wait(lambda: len(self.connections) >= count and self._live, timeout, f"{count} connection(s)")

    def drop(self) -> None:
        """Close every live connection at once, without a close frame (a network failure)."""
        with self._changed:
            live, self._live = self._live, []
        for connection in live:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def send(self, envelope: dict[str, Any]) -> None:
        """Send `envelope` (JSON) on the newest live connection."""
        with self._changed:
            connection = self._live[-1]
        connection.sendall(frame(TEXT, json.dumps(envelope).encode()))

    def wait_for_ack(self, envelope_id: str, timeout: float = 15.0) -> None:
        self._wait(
            lambda: any(m.get("envelope_id") == envelope_id for m in self.received),
            timeout,
            f"ack {envelope_id}",
        )

    def _wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"Socket Mode: no {what} within {timeout}s")
                self._changed.wait(remaining)

    # -- serving --------------------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            self._handshake(connection)
            with self._changed:
                self.connections.append(connection)
                self._live.append(connection)
                self._changed.notify_all()
            hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKEAPP1"}}
            connection.sendall(frame(TEXT, json.dumps(hello).encode()))
            while True:
                opcode, payload = read_frame(connection)
                if opcode == PING:
                    connection.sendall(frame(PONG, payload))
                elif opcode == TEXT:
                    with self._changed:
                        self.received.append(json.loads(payload))
                        self._changed.notify_all()
                elif opcode == CLOSE:
                    return
        except (OSError, ValueError):
            return
        finally:
            connection.close()
            with self._changed:
                if connection in self._live:
                    self._live.remove(connection)

    @staticmethod
    def _handshake(connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                raise ValueError("closed during the handshake")
            request += chunk
        headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
        key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"].strip()
        accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
        connection.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )


def frame(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked frame (server to client)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


def read_frame(connection: socket.socket) -> tuple[int, bytes]:
    first, second = read_exactly(connection, 2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", read_exactly(connection, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", read_exactly(connection, 8))[0]
    mask = read_exactly(connection, 4) if second & 0x80 else b"\0\0\0\0"
    data = read_exactly(connection, size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ValueError("connection closed")
        data += chunk
    return data
