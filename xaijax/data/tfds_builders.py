# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""TFDS builders for the real datasets, without TensorFlow.

Each builder prepares from the user's download (`manual_dir`, the same
folder `data.root` would name) into array_record files for random access:

    from xaijax.data import tfds_builders
    tfds_builders.prepare("chest_xray", manual_dir="~/chest_xray",
                          data_dir="~/tensorflow_datasets")
    src = tfds.data_source("xaijax_chest_xray/kermany",
                           data_dir="~/tensorflow_datasets", split="train")
    src[0]  # {"image": encoded JPEG bytes, "label": 0, "file": ..., "group": ...}

and xaijax reads a prepared dataset with `--config.data.tfds_data_dir=DIR`.

Why the image is a `Tensor(shape=(), dtype=object)` holding the encoded
file and not `tfds.features.Image`: building an Image feature needs
TensorFlow (to encode/decode), and TensorFlow is a large dependency that
nothing else here uses (see docs/data.md for the measured install cost).
Bytes in, Pillow out keeps the files as small as the download and the
decoding identical to the folder path. `tfds.data_source` then works
without TensorFlow; `tfds.load` (tf.data) still needs it.
"""

import hashlib
import os
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from xaijax.data import config as config_lib
from xaijax.data import core, folders, preprocess
from xaijax.data.errors import DataError

_VARIANTS = {
  "brain_mri": {"default": folders.SPECS["brain_mri"]["classes"]},
  "chest_xray": {
    "kermany": ("NORMAL", "PNEUMONIA"),
    "covid": ("COVID19", "NORMAL", "PNEUMONIA"),
  },
  "skin": {"isic9": folders.ISIC9, "benign_malignant": ("benign", "malignant")},
  "ham10000": {"default": folders.HAM7},
}


def _instructions(name: str) -> str:
  spec = folders.SPECS[name]
  return (
    f"Download it yourself and pass the folder as manual_dir.\n"
    f"Layout: {spec['layout']}.\nPublished as: {spec['source']}."
  )


class _Builder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Common code: list with xaijax.data.folders, yield the files' bytes."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES: ClassVar[dict] = {
    "1.0.0": "Encoded files + label, file and group."
  }
  DATA_NAME = ""

  # TFDS looks for a checksums file next to the builder's code through the
  # `importlib_resources` backport, which tensorflow-datasets 4.9.10 does
  # not install; these builders download nothing, so there is none.
  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls):
    return None

  def _info(self):
    classes = _VARIANTS[self.DATA_NAME][self.builder_config.name]
    return self.dataset_info_from_configs(
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Tensor(shape=(), dtype=np.object_),
          "label": tfds.features.ClassLabel(names=list(classes)),
          "file": tfds.features.Text(),
          "group": tfds.features.Text(),
        }
      ),
      supervised_keys=("image", "label"),
      description=_instructions(self.DATA_NAME),
    )

  def _split_generators(self, dl_manager):
    cfg = config_lib.default_config()
    cfg.name = self.DATA_NAME
    cfg.root = str(dl_manager.manual_dir)
    lst = folders.listing(cfg)
    want = tuple(self.info.features["label"].names)
    if tuple(lst.classes) != want:
      raise DataError(
        f"{cfg.root} holds classes {', '.join(lst.classes)}, but the builder "
        f"config '{self.builder_config.name}' expects {', '.join(want)}; "
        "choose the matching config."
      )
    splits = {}
    for tag in sorted(set(lst.official)):
      idx = [i for i, o in enumerate(lst.official) if o == tag]
      splits[tag or "all"] = self._generate_examples(lst, idx)
    return splits

  def _generate_examples(self, lst, idx):
    for i in idx:
      with open(os.path.join(lst.root, lst.relpaths[i]), "rb") as f:
        data = f.read()
      yield (
        lst.relpaths[i],
        {
          "image": data,
          "label": int(lst.labels[i]),
          "file": lst.relpaths[i],
          "group": str(lst.groups[i]),
        },
      )


def _configs(name):
  return [
    tfds.core.BuilderConfig(name=v, description=", ".join(c))
    for v, c in _VARIANTS[name].items()
  ]


class XaijaxBrainMri(_Builder):
  DATA_NAME = "brain_mri"
  MANUAL_DOWNLOAD_INSTRUCTIONS = _instructions("brain_mri")
  BUILDER_CONFIGS = _configs("brain_mri")


class XaijaxChestXray(_Builder):
  DATA_NAME = "chest_xray"
  MANUAL_DOWNLOAD_INSTRUCTIONS = _instructions("chest_xray")
  BUILDER_CONFIGS = _configs("chest_xray")


class XaijaxSkin(_Builder):
  DATA_NAME = "skin"
  MANUAL_DOWNLOAD_INSTRUCTIONS = _instructions("skin")
  BUILDER_CONFIGS = _configs("skin")


class XaijaxHam10000(_Builder):
  DATA_NAME = "ham10000"
  MANUAL_DOWNLOAD_INSTRUCTIONS = _instructions("ham10000")
  BUILDER_CONFIGS = _configs("ham10000")


BUILDERS = {
  "brain_mri": XaijaxBrainMri,
  "chest_xray": XaijaxChestXray,
  "skin": XaijaxSkin,
  "ham10000": XaijaxHam10000,
}


def builder_name(name: str, variant: str = "") -> str:
  """TFDS name such as `xaijax_chest_xray/kermany`."""
  if name not in BUILDERS:
    raise DataError(
      f"No TFDS builder for '{name}'; builders: {', '.join(BUILDERS)}."
    )
  variant = variant or next(iter(_VARIANTS[name]))
  if variant not in _VARIANTS[name]:
    raise DataError(
      f"Unknown TFDS config '{variant}' for {name}; configs: "
      f"{', '.join(_VARIANTS[name])}."
    )
  return f"{BUILDERS[name].name}/{variant}"


def prepare(name: str, manual_dir: str, data_dir: str, variant: str = ""):
  """Builds the array_record files of `name` from the user's download."""
  full = builder_name(name, variant)
  b = BUILDERS[name](
    data_dir=data_dir, config=full.split("/")[1], file_format="array_record"
  )
  b.download_and_prepare(
    download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
  )
  return b


class _TfdsSource:
  """Random access over prepared TFDS splits (array_record)."""

  def __init__(self, sources, draft):
    self.sources = sources  # list of (data source, length)
    self.starts = np.cumsum([0] + [len(s) for s in sources])
    self.draft = draft

  def record(self, i):
    k = int(np.searchsorted(self.starts, i, side="right")) - 1
    return self.sources[k][int(i - self.starts[k])]


def load_prepared(cfg):
  """A Dataset from a prepared builder in `cfg.tfds_data_dir`."""
  full = builder_name(cfg.name, cfg.tfds_config)
  builder = BUILDERS[cfg.name](
    data_dir=cfg.tfds_data_dir, config=full.split("/")[1]
  )
  if not builder.is_prepared():
    raise DataError(
      f"TFDS dataset {full} is not prepared in {cfg.tfds_data_dir}. "
      "Prepare it from your download with xaijax.data.tfds_builders."
      f"prepare('{cfg.name}', manual_dir=..., data_dir=...), or drop "
      "data.tfds_data_dir to read the folder (data.root) directly.\n"
      + _instructions(cfg.name)
    )
  split_names = sorted(builder.info.splits)
  sources = [builder.as_data_source(split=s) for s in split_names]
  reader = _TfdsSource(sources, bool(cfg.jpeg_draft))
  labels, ids, groups, official, hashes = [], [], [], [], []
  info = {"root": f"{cfg.tfds_data_dir} ({full})", "layout": f"TFDS {full}"}
  bad = []
  for s, src in zip(split_names, sources, strict=True):
    for start in range(0, len(src), 256):
      rows = src.__getitems__(list(range(start, min(start + 256, len(src)))))
      for r in rows:
        f = r["file"].decode() if isinstance(r["file"], bytes) else r["file"]
        g = r["group"].decode() if isinstance(r["group"], bytes) else r["group"]
        labels.append(int(r["label"]))
        ids.append(f)
        groups.append(g)
        official.append("" if s == "all" else s)
        if cfg.check_duplicates:
          hashes.append(hashlib.sha1(r["image"]).hexdigest())
        if cfg.verify != "none":
          try:
            preprocess.decode(r["image"], size=64)
          except (OSError, ValueError, SyntaxError) as e:
            bad.append(f"{f}: {e}")
  if bad:
    raise DataError(
      f"{len(bad)} corrupt image(s) in {full}:\n  " + "\n  ".join(bad[:10])
    )
  classes, labels = folders.apply_grouping(
    cfg, cfg.name, builder.info.features["label"].names, labels, info
  )

  class Source(core.Source):
    def read(self, i, size):
      rec = reader.record(i)
      try:
        return preprocess.decode(
          rec["image"], size=size, draft=reader.draft
        ), None
      except (OSError, ValueError, SyntaxError) as e:
        raise DataError(f"Corrupt image {self.ids[i]} in {full}: {e}") from e

  return core.build(
    cfg.name,
    Source(labels, ids, groups),
    np.asarray(official),
    classes,
    cfg,
    info,
    hashes=hashes,
  )
