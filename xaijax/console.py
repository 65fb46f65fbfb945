# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What a user reads on the console, and the complete log file beside it.

A run's console shows its progress bars and a few plain lines (`say`): the
validation and test results, what was resumed or skipped, where the report
is and the total time. Everything logged, at INFO and with absl's full
prefix, goes to `<workdir>/log.txt` (`log_to_file`); the console shows only
warnings and errors from the libraries besides the `say` lines.

Only process 0 of a multi-host run prints.
"""

import logging as std_logging
import os
import sys
from logging import handlers as log_handlers

import jax
import tqdm
from absl import logging

LOG_FILE = "log.txt"


def say(message: str) -> None:
  """A line for the user: on the console (above any progress bar) and in the
  log file."""
  logging.info(message)
  if jax.process_index() == 0:
    tqdm.tqdm.write(message, file=sys.stdout)
    sys.stdout.flush()


def progress(total: int, initial: int = 0, *, unit: str, enabled: bool = True):
  """A tqdm bar on process 0 (disabled elsewhere or when not `enabled`)."""
  return tqdm.tqdm(
    total=total,
    initial=initial,
    unit=unit,
    disable=not (enabled and jax.process_index() == 0),
    dynamic_ncols=True,
    file=sys.stderr,
  )


def quiet_console() -> std_logging.Handler:
  """The console shows warnings and errors only; every INFO record is kept
  in memory until `log_to_file` has the workdir (the checks that run before
  it exists log too). Returns that memory handler."""
  logging.get_absl_handler().setLevel(std_logging.WARNING)
  std_logging.getLogger().setLevel(std_logging.INFO)
  logging.set_verbosity(logging.INFO)
  early = log_handlers.MemoryHandler(
    capacity=1_000_000, flushLevel=std_logging.CRITICAL + 1
  )
  std_logging.getLogger().addHandler(early)
  return early


def log_to_file(workdir: str, early: std_logging.Handler | None = None) -> str:
  """Appends every log record (INFO and up, absl's format) to
  `workdir/log.txt`, starting with what `early` held; returns the path.

  Process i > 0 of a multi-host launch writes `log.process<i>.txt`: one
  writer per file.
  """
  name = LOG_FILE
  if jax.process_index():
    name = f"log.process{jax.process_index()}.txt"
  path = os.path.join(workdir, name)
  handler = std_logging.FileHandler(path)
  handler.setLevel(std_logging.INFO)
  handler.setFormatter(logging.PythonFormatter())
  root = std_logging.getLogger()
  if early is not None:
    early.setTarget(handler)
    early.flush()
    root.removeHandler(early)
    early.close()
  root.addHandler(handler)
  return path
