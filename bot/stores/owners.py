"""The name a process gives itself in the claims it takes (outbox posts, feeds)."""

from __future__ import annotations

import os
import socket
import uuid


def worker_name() -> str:
    """This process's name in the claims it takes: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
