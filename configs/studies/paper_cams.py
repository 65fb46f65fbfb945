# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The paper's Table 2 in both readings: ResNet50 x the five CAMs x classes.

  python launch.py --config configs/studies/paper_cams.py --workdir runs/table2

Trains ResNet50 on the brain MRI sample (tiny widths, 64 px on a CPU; `:full`
for the paper's 224 px and real widths), then explains its test images with
GradCAM, GradCAM++, XGradCAM, EigenGradCAM and LayerCAM at `layer4.2` and
scores each map's confidence change Δ = p_c(x⊙M) − p_c(x). The report gives,
per class, the mean Δ and the fraction of images with Δ > 0, for the
predicted and the true class, on all and on the correctly classified test
images, with paired t-tests and Wilcoxon tests between methods
(Holm-corrected). Arguments: configs/studies/common.py.
"""

from configs.studies import common
from xaijax import explain, study

NOTES = """\
**Which cells are the paper's.** Chaddad et al. report a "confidence
increase" per method on glioma (ResNet50: XGradCAM 0.12, GradCAM++ 0.09,
LayerCAM 0.08) computed with pytorch-grad-cam, whose
`CamMultImageConfidenceChange` explains each image's PREDICTED class by
default. Reading A (a mean confidence change) is the `delta` table of the
`predicted class, all images` section, glioma column; reading B (the share
of images whose confidence increased) is the `increase` table there. The
true-class and correct-only sections show how much the protocol moves those
numbers: with a weak model, the `all images` rows of a class mix
explanations of right and wrong predictions."""


def get_config(arg=None):
  arg = common.parse_arg(arg)
  config = study.launch_config()
  common.shared(config)
  train = common.train_config(config, "resnet50", "brain", 0, arg)
  config.runs.resnet50_brain = study.run_config("resnet50_brain", train)
  config.studies.table2 = study.cams_config(
    methods=explain.PAPER_METHODS,
    targets=("predicted", "true"),
    selections=("all", "correct"),
    metrics=("confidence",),
    batch_size=8 if arg.tiny else 32,
    notes=NOTES,
  )
  return config
