"""The recorder's fixtures for the ui tests: a fake feed server, fresh contract sizes."""

from tests.record.conftest import feeds, fresh_contract_sizes

__all__ = ["feeds", "fresh_contract_sizes"]
