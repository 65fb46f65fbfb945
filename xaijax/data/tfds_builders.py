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

from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from xaijax.data import config as config_lib
from xaijax.data import layouts
from xaijax.data.errors import DataError
from xaijax.data.layouts import class_folders, ham10000
from xaijax.data.sources import EncodedSource

_VARIANTS = {
  "brain_mri": {"default": class_folders.BRAIN_MRI.classes},
  "chest_xray": {
    "kermany": ("NORMAL", "PNEUMONIA"),
    "covid": ("COVID19", "NORMAL", "PNEUMONIA"),
  },
  "skin": {
    "isic9": class_folders.ISIC9,
    "benign_malignant": ("benign", "malignant"),
  },
  "ham10000": {"default": ham10000.HAM7},
}


def _instructions(name: str) -> str:
  layout = layouts.LAYOUTS[name]
  return (
    f"Download it yourself and pass the folder as manual_dir.\n"
    f"Layout: {layout.expected}.\nPublished as: {layout.published}."
  )


class _Builder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Common code: list with xaijax.data.layouts, yield the files' bytes."""

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
    lst = layouts.listing(cfg)
    want = tuple(self.info.features["label"].names)
    if lst.class_names != want:
      raise DataError(
        f"{cfg.root} holds classes {', '.join(lst.class_names)}, but the "
        "builder "
        f"config '{self.builder_config.name}' expects {', '.join(want)}; "
        "choose the matching config."
      )
    splits = {}
    for tag in sorted(set(lst.official)):
      idx = [i for i, o in enumerate(lst.official) if o == tag]
      splits[tag or "all"] = self._generate_examples(lst, idx)
    return splits

  def _generate_examples(self, lst, idx):
    src = lst.source
    for i in idx:
      yield (
        src.ids[i],
        {
          "image": src.stored(i),
          "label": int(src.labels[i]),
          "file": src.ids[i],
          "group": str(src.groups[i]),
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


class _TfdsSource(EncodedSource):
  """Examples of prepared TFDS splits (array_record), read on request."""

  def __init__(self, sources, labels, ids, groups, *, draft, name):
    super().__init__(labels, ids, groups, draft=draft)
    self.sources = sources
    self.starts = np.cumsum([0] + [len(s) for s in sources])
    self.name = name

  def where(self, i):
    return f"{self.ids[i]} in {self.name}"

  def stored(self, i):
    k = int(np.searchsorted(self.starts, i, side="right")) - 1
    return self.sources[k][int(i - self.starts[k])]["image"]


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else value


def listing(cfg) -> layouts.Listing:
  """The listing of a prepared builder in `cfg.tfds_data_dir`."""
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
  labels, ids, groups, official = [], [], [], []
  for s, src in zip(split_names, sources, strict=True):
    for start in range(0, len(src), 256):
      rows = src.__getitems__(list(range(start, min(start + 256, len(src)))))
      for r in rows:
        labels.append(int(r["label"]))
        ids.append(_text(r["file"]))
        groups.append(_text(r["group"]))
        official.append("" if s == "all" else s)
  return layouts.Listing(
    name=cfg.name,
    source=_TfdsSource(
      sources, labels, ids, groups, draft=bool(cfg.jpeg_draft), name=full
    ),
    official=np.asarray(official),
    class_names=tuple(builder.info.features["label"].names),
    root=f"{cfg.tfds_data_dir} ({full})",
    layout=f"TFDS {full}",
  )
