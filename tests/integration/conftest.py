"""Integration fixtures: the real adapters over moto's in-process AWS (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from chalicelib import wiring
from chalicelib.core import config


@pytest.fixture
def adapters(provisioned: dict[str, str]) -> wiring.Adapters:
    return wiring.aws_adapters(config.settings())
