"""Fixtures of the analysis tests: a twelve-day simulated market to score and calibrate on."""

from __future__ import annotations

import pytest

from liqcore.simulate import simulate


@pytest.fixture(scope="module")
def sim():
    return simulate(days=12, interval="15min", seed=11)
