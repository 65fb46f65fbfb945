# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the data tests: the real samples and small configs."""

import os

import pytest

from xaijax import data

# The real samples sit beside the repository (../shared/data, see its
# MANIFEST.md); tests that read them skip where it is absent.
SHARED = os.environ.get(
  "XAIJAX_SHARED_DATA",
  os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"),
)


def shared_path(*parts: str) -> str:
  path = os.path.join(SHARED, *parts)
  if not os.path.exists(path):
    pytest.skip(
      f"real sample data not found at {os.path.abspath(path)} (the "
      "project's ../shared/data; set XAIJAX_SHARED_DATA to its location)"
    )
  return path


@pytest.fixture
def small_cfg():
  """A synthetic config small enough for unit tests."""
  c = data.default_config()
  c.image_size = 32
  c.batch_size = 8
  c.synthetic.num_images = 60
  c.num_workers = 2
  return c
