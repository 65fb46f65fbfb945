# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the data tests: the real samples and small configs."""

import pytest

from tests.conftest import SHARED_DATA, missing_shared_data
from xaijax import data


def shared_path(*parts: str) -> str:
  """A file or folder of the real samples (../shared/data); a skip where it
  is absent, a failure in CI (tests/conftest.py)."""
  path = SHARED_DATA.joinpath(*parts)
  if not path.exists():
    missing_shared_data(path)
  return str(path)


@pytest.fixture
def small_cfg():
  """A synthetic config small enough for unit tests."""
  c = data.default_config()
  c.image_size = 32
  c.batch_size = 8
  c.synthetic.num_images = 60
  c.num_workers = 2
  return c
