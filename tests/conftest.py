# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by the whole test suite."""

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def torchvision():
  """torchvision, importable on the CPU torch build (see torch_interop)."""
  from xaijax.models.torch_interop import import_torchvision

  return import_torchvision()


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
  """The real medical image samples beside the repo, or a skip."""
  if not SHARED_DATA.is_dir():
    pytest.skip(
      f"Real data samples not found at {SHARED_DATA}: they live in the "
      "shared/ folder beside the repository (see shared/data/MANIFEST.md)."
    )
  return SHARED_DATA
