# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Runs one config: a training run, or a study of trained runs.

  python launch.py --config configs/resnet50_chest.py \
    --config.data.root=/data/chest_xray --workdir runs/resnet50_chest
  python launch.py --config configs/studies/paper_cams.py --workdir runs/t2
  python launch.py --config configs/demo.py --workdir runs/demo

`--config FILE[:arg]` loads `get_config(arg)` from FILE; any key can be
overridden with `--config.a.b=value`. Every name in the config is checked
before anything is written; running again on the same workdir resumes, and
what is finished is not redone. The console shows progress and results;
`<workdir>/log.txt` holds the full log. See docs/training.md and
docs/studies.md.
"""

import ast
import importlib.util
import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file(
  "config", None, "Config file, optionally FILE:arg.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Output folder of the run.")
flags.mark_flags_as_required(["config", "workdir"])


def _config_keys(config, prefix="config") -> list[str]:
  keys = []
  for key, value in config.items():
    if hasattr(value, "items"):
      keys += _config_keys(value, f"{prefix}.{key}")
    else:
      keys.append(f"{prefix}.{key}")
  return keys


def _config_file(argv: list[str]) -> str | None:
  """The value of --config in `argv` (either `--config X` or `--config=X`)."""
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      return arg.split("=", 1)[1]
    if arg == "--config" and i + 1 < len(argv):
      return argv[i + 1]
  return None


def _valid_keys(config_file: str) -> str:
  """'Valid keys: ...' for the config in `config_file`, or '' if unreadable."""
  path, _, arg = config_file.partition(":")
  spec = importlib.util.spec_from_file_location("_config", path)
  try:
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config(arg or None)
  except Exception:
    return ""
  return "\nValid keys:\n  " + "\n  ".join(_config_keys(config))


def _parse_flags(argv: list[str]) -> list[str]:
  """absl flag parsing that turns a bad override into a short, clear error."""
  try:
    return flags.FLAGS(argv)
  except Exception as e:
    text = str(e)
    if text[:1] in "'\"":
      # ml_collections raises AttributeError(repr(KeyError(...))): unquote.
      text = ast.literal_eval(text)
    if "Traceback (most recent call last)" in text:
      # config_flags pastes the config file's traceback into its message;
      # its first and last lines say what is wrong.
      lines = text.strip().splitlines()
      text = f"{lines[0]} {lines[-1]}"
    message = f"Bad command line: {text}".replace("\n", " ")
    config_file = _config_file(argv)
    if config_file and any(a.startswith("--config.") for a in argv):
      message += _valid_keys(config_file)
    sys.exit(message)


def _torch_run(config, workdir: str) -> None:
  """The PyTorch baseline, which lives outside xaijax (never imported by it;
  it needs the `torch` extra)."""
  from baselines import torch_trainer

  torch_trainer.run(config, workdir)


def _fail(kind: str, error: BaseException) -> None:
  """Exits with one line per message line, no traceback, status 1."""
  logging.error("%s: %s", kind, error)
  sys.exit(f"{kind}: {error}")


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
  from xaijax import console

  early_log = console.quiet_console()
  import time

  from xaijax import data, study, train

  start = time.perf_counter()
  config, workdir = _CONFIG.value, _WORKDIR.value
  kind = study if study.is_study(config) else train
  # Before anything is written: every name of the config, and the workdir.
  try:
    train.initialize_distributed(config)
    kind.check_config(config)
  except data.DataError as e:
    _fail("Data error", e)
  except ValueError as e:
    _fail("Config error", e)
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    _fail("Cannot create the workdir", f"{workdir}: {e.strerror}")
  console.log_to_file(workdir, early_log)
  try:
    if kind is study:
      kind.run(config, workdir, trainers={"torch": _torch_run})
    elif config.get("framework") == "torch":
      _torch_run(config, workdir)
    else:
      kind.run(config, workdir)
  except data.DataError as e:
    _fail("Data error", e)
  except study.ConfigError as e:
    _fail("Config error", e)
  except FloatingPointError as e:
    _fail("Training stopped", e)
  console.say(f"Total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
