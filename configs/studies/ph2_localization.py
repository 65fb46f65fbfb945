# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Do CAMs find real lesions? PH2's expert masks against an ISIC model's
maps, clean and corrupted.

  python launch.py --config configs/studies/ph2_localization.py \
    --workdir runs/generalisation/ph2

ResNet50 and EfficientNet-B0 (seed 0) of external_validation.py, trained on
the 9-class ISIC skin sample, explain every PH2 image (without copies of
their training images) with the paper's five CAMs: each image's predicted
group (melanoma or nevus, from the mapped probabilities) and its true
group, each explained as the model's class of that name. Pointing game,
energy pointing game and IoU against the lesion masks, plus the confidence
change, with paired tests between methods (study `cams_*`); then the same
maps under the corruptions that keep the lesion in place, 5 severities
(study `maps_*`). Arguments: configs/studies/generalisation.py.
"""

from configs.studies import external_validation as ev
from configs.studies import generalisation as g
from xaijax import explain, study

# The corruptions that leave the lesion where its mask is (not rotation,
# shift).
IN_PLACE = (
  "gaussian_noise",
  "shot_noise",
  "gaussian_blur",
  "contrast_down",
  "brightness_down",
  "gamma_up",
  "jpeg",
  "resolution",
  "bias_field",
)


def get_config(arg=None):
  arg = g.parse_arg(arg)
  config = g.launch(arg)
  runs = g.add_runs(config, arg, ev.MODELS, ("skin",), (0,))
  for name in runs["skin"]:
    config.studies[f"cams_{name}"] = study.cams_config(
      runs=(name,),
      images="external:ph2",
      methods=explain.PAPER_METHODS,
      targets=("predicted", "true"),
      selections=("all",),
      metrics=("confidence", "localization"),
      batch_size=8 if arg.tiny else 40,
      figure_images=2 if arg.tiny else 4,
    )
    config.studies[f"maps_{name}"] = study.map_robustness_config(
      runs=(name,),
      images="external:ph2",
      methods=explain.PAPER_METHODS,
      target="true",
      corruptions=IN_PLACE[:1] if arg.tiny else IN_PLACE,
      max_images=8 if arg.tiny else 64,
      batch_size=8 if arg.tiny else 16,
      metrics=("confidence", "localization"),
    )
  return config
