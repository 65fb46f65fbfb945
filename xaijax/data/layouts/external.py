# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""External validation sets: other sources than the training sets, read as
test-only datasets (every image in the test split, no train or val).

* brain_mri_yes_no:    ROOT/{yes,no}/<images> (Chakrabarty, Kaggle 2019)
* covid19_radiography: ROOT/{NORMAL,COVID}/<images>, the class folders of
                       the COVID-19 Radiography Database (its other classes
                       Lung_Opacity and Viral Pneumonia are read when
                       present; `images/` subfolders are read, `masks/` not)
* ph2:                 ROOT/images/<class>/<name> and
                       ROOT/lesion_masks/<class>/<name> (PH2, with its expert
                       lesion masks; classes common_nevus, atypical_nevus,
                       melanoma)

How their classes relate to a training set's is in xaijax/data/external.py.
"""

import dataclasses
import os

import numpy as np
from PIL import Image

from xaijax.data.layouts import base
from xaijax.data.layouts.class_folders import ClassFolders
from xaijax.data.sources import DECODE_ERRORS, FileSource

BRAIN_MRI_YES_NO = ClassFolders(
  name="brain_mri_yes_no",
  expected=(
    "ROOT/yes/ and ROOT/no/ holding the MRI images (JPEG or PNG, any "
    "name), as in the Kaggle download's brain_tumor_dataset/ folder"
  ),
  published=(
    'N. Chakrabarty, "Brain MRI Images for Brain Tumor Detection", Kaggle '
    "2019 (https://www.kaggle.com/datasets/navoneel/"
    "brain-mri-images-for-brain-tumor-detection); no licence stated"
  ),
  classes=("no", "yes"),
  test_only=True,
)

COVID19_RADIOGRAPHY = ClassFolders(
  name="covid19_radiography",
  expected=(
    "ROOT/NORMAL/ and ROOT/COVID/ (each holding the PNG files, or an "
    "images/ subfolder with them; masks/ subfolders are not read); "
    "Lung_Opacity/ and Viral Pneumonia/ are read too when present"
  ),
  published=(
    "COVID-19 Radiography Database (Chowdhury et al., IEEE Access 2020; "
    "Rahman et al., Comput. Biol. Med. 2021), Kaggle "
    "(https://www.kaggle.com/datasets/tawsifurrahman/"
    "covid19-radiography-database)"
  ),
  classes=("NORMAL", "COVID"),
  variants=(
    ("NORMAL", "COVID", "Viral Pneumonia"),
    ("NORMAL", "COVID", "Lung_Opacity", "Viral Pneumonia"),
  ),
  aliases={
    "covid-19": "COVID",
    "viral_pneumonia": "Viral Pneumonia",
    "lung opacity": "Lung_Opacity",
  },
  skip=("masks",),
  test_only=True,
)


@dataclasses.dataclass(frozen=True)
class LesionMasks(base.Layout):
  """ROOT/<images>/<class>/<name> with ROOT/<masks>/<class>/<name>.

  Every image has a mask of the same name (any image extension) and the
  same size; nonzero mask pixels are the lesion.

  Attributes:
    classes: the class folders, in label order.
    images: the folder of the images.
    masks: the folder of the masks.
  """

  classes: tuple[str, ...] = ()
  images: str = "images"
  masks: str = "lesion_masks"

  def list(self, cfg) -> base.Listing:
    root = self.folder(cfg)
    folders = {}
    for part in (self.images, self.masks):
      found = {s.lower(): s for s in base.subdirs(root)}
      if part.lower() not in found:
        raise self.error(
          f"No {part}/ folder under {os.path.abspath(root)} (found "
          f"{', '.join(sorted(found.values())) or 'nothing'})."
        )
      folders[part] = os.path.join(root, found[part.lower()])
    image_dir = folders[self.images]
    by_class = {c.lower(): c for c in base.subdirs(image_dir)}
    unknown = sorted(set(by_class) - {c.lower() for c in self.classes})
    if unknown:
      raise self.error(
        f"Unknown class folder(s) under {image_dir}: "
        f"{', '.join(by_class[u] for u in unknown)}. Expected class folders: "
        f"{', '.join(self.classes)}."
      )
    relpaths, masks, labels, ignored = [], [], [], []
    no_mask, bad_size = [], []
    for label, c in enumerate(self.classes):
      if c.lower() not in by_class:
        raise self.error(f"Class folder {c} not found under {image_dir}.")
      folder = os.path.join(image_dir, by_class[c.lower()])
      files, others = base.list_images(folder)
      ignored += others
      if not files:
        raise self.error(f"Class folder {folder} has no image files.")
      mask_files = self._masks_by_stem(
        os.path.join(folders[self.masks], os.path.relpath(folder, image_dir))
      )
      for f in files:
        mask = mask_files.get(os.path.splitext(os.path.basename(f))[0])
        if mask is None:
          no_mask.append(os.path.relpath(f, root))
          continue
        problem = _mask_problem(f, mask)
        if problem:
          bad_size.append(f"{os.path.relpath(mask, root)}: {problem}")
        relpaths.append(os.path.relpath(f, root))
        masks.append(os.path.relpath(mask, root))
        labels.append(label)
    for what, bad in (("have no mask", no_mask), ("have a bad mask", bad_size)):
      if bad:
        listed = "\n  ".join(bad[:10])
        more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise self.error(
          f"{len(bad)} image(s) under {image_dir} {what} (a file of the "
          f"same name and size under {folders[self.masks]}):\n  {listed}"
          f"{more}"
        )
    return base.Listing(
      name=self.name,
      source=FileSource(
        root, relpaths, labels, masks=masks, draft=bool(cfg.jpeg_draft)
      ),
      official=np.full(len(relpaths), ""),
      class_names=self.classes,
      root=os.path.abspath(root),
      layout=f"{self.images}/<class>/ with {self.masks}/<class>/",
      ignored_files=len(ignored),
      ignored_examples=tuple(ignored[:10]),
      test_only=self.test_only,
    )

  def _masks_by_stem(self, folder: str) -> dict[str, str]:
    """Mask files of one class folder by file name without extension."""
    files, _ = base.list_images(folder) if os.path.isdir(folder) else ([], [])
    return {os.path.splitext(os.path.basename(f))[0]: f for f in files}


def _mask_problem(image: str, mask: str) -> str:
  """Why `mask` cannot be `image`'s mask ("" if it can), from the headers.

  An unreadable image is not reported here: the integrity scan does that
  for every image, with `data.skip_corrupt`.
  """
  try:
    with Image.open(mask) as m:
      mask_size = m.size
  except DECODE_ERRORS as e:
    return f"unreadable ({type(e).__name__}: {e})"
  try:
    with Image.open(image) as a:
      image_size = a.size
  except DECODE_ERRORS:
    return ""
  if mask_size != image_size:
    return (
      f"mask {mask_size[0]}x{mask_size[1]}, image "
      f"{image_size[0]}x{image_size[1]}"
    )
  return ""


PH2 = LesionMasks(
  name="ph2",
  expected=(
    "ROOT/images/{common_nevus,atypical_nevus,melanoma}/<name>.png and "
    "ROOT/lesion_masks/<same class>/<same name> (255 = lesion, same size "
    "as the image)"
  ),
  published=(
    "PH2 (Mendonca et al., IEEE EMBC 2013; https://www.fc.up.pt/addi/"
    "ph2%20database.html), research use; the class-folder PNG layout as "
    "in github.com/chelseaparlett/SkinCancerVariation PH2Dataset/"
  ),
  classes=("common_nevus", "atypical_nevus", "melanoma"),
  test_only=True,
)
