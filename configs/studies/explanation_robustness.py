# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Robustness of the paper's five CAMs to corrupted inputs and input noise.

  python launch.py --config configs/studies/explanation_robustness.py \
    --workdir runs/generalisation/map_robustness

ResNet50 and EfficientNet-B0 (seed 0) of external_validation.py on the brain
MRI sample: a class-balanced sample of 32 test images, each explained for
its predicted class by GradCAM, GradCAM++, XGradCAM, EigenGradCAM and
LayerCAM on the clean image and under the 14 corruptions x 5 severities.
Similarity of clean and corrupted maps (Spearman, SSIM, top-10% IoU), the
maps' confidence change on corrupted images and the model's, and
Max-Sensitivity and Local Lipschitz Estimate (Quantus' definitions;
`sensitivity.num_samples` 10 on a CPU instead of Quantus' 200), with paired
tests between methods. Arguments: configs/studies/generalisation.py.
"""

from configs.studies import external_validation as ev
from configs.studies import generalisation as g
from xaijax import explain, study


def get_config(arg=None):
  arg = g.parse_arg(arg)
  config = g.launch(arg)
  runs = g.add_runs(config, arg, ev.MODELS, ("brain",), (0,))
  for name in runs["brain"]:
    smoke = {"corruptions": ("gaussian_blur",)} if arg.tiny else {}
    config.studies[f"maps_{name}"] = study.map_robustness_config(
      runs=(name,),
      methods=explain.PAPER_METHODS,
      max_images=8 if arg.tiny else 32,
      batch_size=8 if arg.tiny else 16,
      metrics=("confidence", "max_sensitivity", "local_lipschitz"),
      sensitivity={
        "num_samples": 2 if arg.tiny else 10,
        "radius": 0.2,
        "std": 0.1,
      },
      **smoke,
    )
  return config
