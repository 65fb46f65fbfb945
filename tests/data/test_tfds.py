# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""TFDS builders (array_record, no TensorFlow) agree with the folder path."""

import numpy as np
import pytest

from tests.data.test_generated_layouts import cfg, make_tree
from xaijax import data
from xaijax.data import record

tfds = pytest.importorskip("tensorflow_datasets")
pytest.importorskip("array_record")


def test_prepare_and_read_back_like_the_folder(tmp_path):
  from xaijax.data import tfds_builders

  classes = ("glioma", "meningioma", "notumor", "pituitary")
  make_tree(
    tmp_path / "dl",
    {f"{s}/{c}": 4 for s in ("Training", "Testing") for c in classes},
  )
  tfds_builders.prepare(
    "brain_mri", str(tmp_path / "dl"), str(tmp_path / "tfds")
  )
  src = tfds.data_source(
    "xaijax_brain_mri/default", data_dir=str(tmp_path / "tfds"), split="test"
  )
  assert len(src) == 16 and isinstance(src[0]["image"], bytes)

  folder = data.load(cfg("brain_mri", tmp_path / "dl"))
  prepared = data.load(
    cfg("brain_mri", "", tfds_data_dir=str(tmp_path / "tfds"))
  )
  assert prepared.class_names == classes
  for k in ("train", "val", "test"):
    assert record.split_hash(prepared.splits[k]) == record.split_hash(
      folder.splits[k]
    )
  np.testing.assert_array_equal(
    prepared.test.example(3)["image"], folder.test.example(3)["image"]
  )


def test_wrong_config_and_unprepared(tmp_path):
  from xaijax.data import tfds_builders

  make_tree(
    tmp_path / "dl",
    {f"{s}/{c}": 2 for s in ("train", "test") for c in ("NORMAL", "PNEUMONIA")},
  )
  with pytest.raises(data.DataError, match="expects COVID19"):
    tfds_builders.prepare(
      "chest_xray", str(tmp_path / "dl"), str(tmp_path / "t"), "covid"
    )
  with pytest.raises(data.DataError, match="not prepared"):
    data.load(cfg("chest_xray", "", tfds_data_dir=str(tmp_path / "empty")))
