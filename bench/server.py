"""Start the app with ``streamlit run`` on a free loopback port, for the benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(
    timeout_s: float = 60.0, script: Path = ROOT / "streamlit_app.py"
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield the app's URL and its process once ``/_stcore/health`` answers; stop it after."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script),
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.headless", "true"]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            msg = f"the app did not answer on {url} within {timeout_s:.0f} s"
            raise RuntimeError(msg)
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)
