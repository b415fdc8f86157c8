"""The recorder's fixtures for the ui tests: a fake feed server, no network beyond loopback."""

from tests.record.conftest import feeds, no_network

__all__ = ["feeds", "no_network"]
