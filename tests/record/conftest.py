"""Recorder test fixtures: a fake feed server and OKX's instruments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from liqcore.record.feeds import forget_contract_sizes
from tests.record.fake_feeds import FakeFeeds, FakeInstruments


@pytest.fixture(autouse=True)
def fresh_contract_sizes() -> None:
    """Each test asks the fake OKX for contract sizes again (no size cached by another)."""
    forget_contract_sizes()


@pytest.fixture
def feeds() -> Iterator[FakeFeeds]:
    with FakeFeeds() as server:
        yield server


@pytest.fixture(scope="session")
def instruments() -> Iterator[FakeInstruments]:
    with FakeInstruments() as server:
        yield server
