# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The shared config: every key a run reads, with paper-like defaults.

The per-experiment files (`resnet50_chest.py`, ...) only name the model and
the dataset. Every config takes an optional argument after a colon:

  python launch.py --config configs/resnet50_chest.py:tiny --workdir runs/t
  python launch.py --config configs/vgg16_brain.py:model=vgg16,tiny=1 ...

`tiny` shrinks everything (narrow model, 32 px, a few steps) for smoke runs
and tests. Any key can then be overridden, e.g. `--config.batch_size=64`
or `--config.data.root=/data/chest_xray`.
"""

import ml_collections

import xaijax.data
import xaijax.models

# Every architecture of the one model registry.
MODELS = tuple(xaijax.models.MODELS)
# Dataset short names of the config files -> `config.data.name`.
DATASETS = {
  "brain": "brain_mri",
  "skin": "skin",
  "chest": "chest_xray",
  "pathology": "nct_crc_he",
  "synthetic": "synthetic",
}


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """'tiny,model=vgg16' -> ConfigDict, typed like `defaults`.

  A bare word sets a bool default to True; `key=value` parses the value with
  the type of the default. Unknown keys raise ValueError listing the known
  ones.
  """
  parsed = ml_collections.ConfigDict(defaults)
  for item in filter(None, (arg or "").split(",")):
    key, _, value = item.partition("=")
    if key not in defaults:
      raise ValueError(
        f"Unknown config argument '{key}'; valid: {', '.join(defaults)}."
      )
    kind = type(defaults[key])
    if kind is bool:
      if value.lower() not in ("", "1", "true", "0", "false"):
        raise ValueError(f"Config argument {key}={value} is not a bool.")
      parsed[key] = value.lower() in ("", "1", "true")
    else:
      parsed[key] = kind(value)
  return parsed


def get_config(arg: str | None = None, **defaults) -> ml_collections.ConfigDict:
  """The full config of one run.

  Args:
    arg: the text after ':' in `--config FILE:arg` (see `parse_arg`); keys
      `model`, `dataset`, `tiny`.
    **defaults: defaults for those keys, given by the thin config files.

  Returns:
    The ConfigDict that `xaijax.train.run` reads.
  """
  arg = parse_arg(
    arg,
    **{"model": "resnet50", "dataset": "synthetic", "tiny": False, **defaults},
  )
  if arg.model not in MODELS:
    raise ValueError(f"Unknown model '{arg.model}'; use one of {MODELS}.")
  if arg.dataset not in DATASETS:
    raise ValueError(
      f"Unknown dataset '{arg.dataset}'; use one of {', '.join(DATASETS)}."
    )
  config = ml_collections.ConfigDict()
  config.seed = 0  # parameter init, dropout, shuffling and augmentation
  # "jax" (xaijax.train) or "torch" (the PyTorch baseline in baselines/,
  # same split, settings and output files; needs the `torch` extra).
  config.framework = "jax"

  config.model = ml_collections.ConfigDict()
  config.model.name = arg.model
  config.model.tiny = arg.tiny  # narrow widths, same layers and names
  config.model.dtype = "float32"  # or "bfloat16" (compute; params float32)

  # Global batch sizes (all devices and hosts); the data pipeline reads
  # the same values through references.
  config.batch_size = 32
  config.eval_batch_size = 64
  config.data = xaijax.data.default_config()
  config.data.name = DATASETS[arg.dataset]
  config.data.image_size = 224
  config.data.batch_size = config.get_ref("batch_size")
  config.data.eval_batch_size = config.get_ref("eval_batch_size")
  # The split is seeded by data.seed, NOT by the run seed: seed repeats then
  # share the same test images, as the paired t-tests need.
  config.data.seed = 0

  # Duration: total_steps if > 0, else num_epochs over the train split; with
  # early_stopping.patience > 0 training stops sooner once validation
  # (checkpoint.best_metric) has not improved for that many evaluations.
  config.num_epochs = 30.0
  config.total_steps = 0
  config.early_stopping = ml_collections.ConfigDict()
  config.early_stopping.patience = 0  # evaluations; 0 = train to the end
  config.log_every_steps = 10
  config.eval_every_steps = 200
  config.progress = True  # tqdm bar with images/s and ETA on process 0

  # Adam 1e-3 with cosine decay, as the usual transfer-learning recipes of
  # the paper's era; `--config.optimizer.name=sgd` gives SGD + momentum.
  config.optimizer = ml_collections.ConfigDict()
  config.optimizer.name = "adam"  # "adam" | "adamw" | "sgd"
  config.optimizer.learning_rate = 1e-3
  config.optimizer.weight_decay = 0.0  # kernels only
  config.optimizer.momentum = 0.9  # sgd
  config.optimizer.nesterov = False  # sgd
  config.optimizer.grad_clip_norm = 0.0  # > 0: clip by global norm
  config.schedule = ml_collections.ConfigDict()
  config.schedule.name = "cosine"  # "cosine" | "constant"
  config.schedule.warmup_steps = 0
  config.schedule.end_factor = 0.0  # final lr = end_factor * peak

  config.loss = ml_collections.ConfigDict()
  config.loss.label_smoothing = 0.0
  config.loss.class_weights = False  # weight classes by inverse frequency

  # ImageNet initialisation: a torchvision state_dict file (.pth,
  # .safetensors, .npz) for the same architecture; the head is re-initialised
  # when its class count differs. '' trains from scratch. '{model}' in the
  # path is replaced by the model name: '/weights/{model}.pth' serves a
  # repeat over several architectures.
  config.init = ml_collections.ConfigDict()
  config.init.torchvision = ""
  # '' | 'backbone' (train the head only) | a regex over param paths.
  config.freeze = ""

  config.checkpoint = ml_collections.ConfigDict()
  config.checkpoint.every_steps = 200
  config.checkpoint.keep = 2  # latest states kept for resume
  config.checkpoint.async_save = True
  config.checkpoint.best_metric = "balanced_accuracy"  # on validation
  config.checkpoint.best_mode = "max"

  # Data parallel over all devices; 'shard_large' splits big parameters
  # (VGG16's dense layers) over the devices instead of replicating them.
  config.sharding = ml_collections.ConfigDict()
  config.sharding.params = "replicate"
  config.sharding.min_shard_size = 2**20

  # Multi-host: see docs/training.md. auto=True for Cloud TPU pods/SLURM.
  config.distributed = ml_collections.ConfigDict()
  config.distributed.auto = False
  config.distributed.coordinator_address = ""
  config.distributed.num_processes = 1
  config.distributed.process_id = 0
  config.distributed.cpu_collectives = "gloo"

  # Repeats in one command: e.g. seeds=(0, 1, 2) -> workdir/seed_0, ...;
  # models=('resnet50', 'vgg16') -> workdir/resnet50_seed_0, ...; the test
  # metrics of all runs are listed in workdir/repeats.json, and a study
  # pointed at workdir reads every run (configs/studies/).
  config.repeats = ml_collections.ConfigDict()
  config.repeats.models = ()
  config.repeats.seeds = ()
  config.repeats.folds = ()

  if arg.tiny:
    config.model.tiny = True
    config.data.image_size = 32
    config.batch_size = 8
    config.eval_batch_size = 16
    config.total_steps = 6
    config.log_every_steps = 2
    config.eval_every_steps = 3
    config.checkpoint.every_steps = 3
    config.data.synthetic.num_images = 96
  return config
