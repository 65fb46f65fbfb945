# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The paper's grid: 4 CNNs x 3 datasets x seeds, then the CAM study.

  python launch.py --config configs/studies/paper_grid.py --workdir runs/grid
  # the paper's setting: ImageNet weights per architecture, 224 px
  python launch.py --config configs/studies/paper_grid.py:full \
    --workdir runs/grid_full --config.init_torchvision=/weights/{model}.pth \
    --config.roots.brain=/data/brain-tumor-mri-dataset \
    --config.roots.chest=/data/chest_xray \
    --config.roots.skin="/data/Skin cancer ISIC The International Skin Imaging Collaboration"

Every model (ResNet50, DenseNet121, VGG16, EfficientNet-B0) trains on the
brain MRI, skin and chest X-ray samples with seeds 0 and 1 on the same
split, each until its validation balanced accuracy stops improving (early
stopping; configs/studies/common.py), into `<workdir>/<model>_<dataset>_s<seed>`.
Two studies follow: `table1` (test metrics, models x datasets, paired tests
between models over seeds and per test image) and `table2` (ResNet50 seed 0
on the brain sample: the paper's five CAMs on a class-balanced sample of 64
test images, confidence change and ROAD, paired tests between methods).
"""

from configs.studies import common
from xaijax import explain, study

DATASETS = ("brain", "skin", "chest")
SEEDS = (0, 1)


def get_config(arg=None):
  arg = common.parse_arg(arg)
  config = study.launch_config()
  common.shared(config)
  for dataset in DATASETS:
    for model in common.CNNS:
      for seed in SEEDS:
        name = f"{model}_{dataset}_s{seed}"
        train = common.train_config(config, model, dataset, seed, arg)
        config.runs[name] = study.run_config(name, train)
  config.studies.table1 = study.models_config()
  config.studies.table2 = study.cams_config(
    runs=("resnet50_brain_s0",),
    methods=explain.PAPER_METHODS,
    metrics=("confidence", "road"),
    batch_size=8 if arg.tiny else 32,
  )
  return config
