# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The external validation study: each run on its test split and on
external sets of other sources.

For every run and every external set of the study ('external:<key>'):

* the external set without the copies of the run's training images
  (`xaijax.data.load_external`; how many were removed is reported), its
  probabilities mapped from the run's classes to the set's groups
  (`xaijax.data.map_probabilities`);
* the in-distribution baseline in the same groups: the run's test images
  whose class has a group, labelled with it (`outputs.mapped_test`);
* the run's test split in its own classes.

Accuracy, balanced accuracy and ROC-AUC (`classification_metrics`) with
seeded bootstrap intervals over images, then paired tests: the drop from
the in-distribution baseline to the external set per model over its runs
(seeds), and models against each other on the same images. The clean
logits of every image are cached, so a rerun computes nothing.
"""

import pathlib
import time
import warnings
from collections.abc import Sequence

import numpy as np

from xaijax import console, stats
from xaijax.evaluate import classification_metrics
from xaijax.report import build
from xaijax.report import studies as study_report
from xaijax.study import outputs
from xaijax.study.batches import is_main
from xaijax.study.config import set_key
from xaijax.study.runs import Context, TrainedRun

METRICS = ("accuracy", "balanced_accuracy", "roc_auc")


def metric_intervals(
  labels, probs, *, seed: int, n_resamples: int
) -> dict[str, float]:
  """Each metric of `METRICS` and its 95% bootstrap interval over images.

  Args:
    labels: (N,) true classes.
    probs: (N, K) probabilities.
    seed: the resampling seed (every metric resamples the same images).
    n_resamples: bootstrap resamples (BCa, `xaijax.stats.bootstrap_ci`).

  Returns:
    {metric: value, f'{metric}_low': ..., f'{metric}_high': ...}.
  """
  labels, probs = np.asarray(labels), np.asarray(probs)
  out = {}
  whole = classification_metrics(labels, probs)
  # Images are resampled by index, so that metrics of (label, probability)
  # pairs (balanced accuracy, AUC) resample whole images.
  index = np.arange(len(labels), dtype=np.float64)
  for metric in METRICS:

    def statistic(sample, metric=metric):
      i = sample.astype(np.int64)
      return classification_metrics(labels[i], probs[i])[metric]

    with warnings.catch_warnings():
      # A degenerate resampling distribution (e.g. a constant balanced
      # accuracy) has no BCa interval: scipy warns and returns NaN, which
      # the tables show as the value alone.
      warnings.simplefilter("ignore")
      low, high = stats.bootstrap_ci(
        index, seed=seed, statistic=statistic, n_resamples=n_resamples
      )
    out |= {metric: whole[metric], f"{metric}_low": low, f"{metric}_high": high}
  return out


def image_records(run: TrainedRun, images, probs) -> list[dict]:
  """One record per image: its class, prediction and correctness."""
  names = images.class_names
  predicted = probs.argmax(-1)
  fold = run.config.data.fold
  return [
    {
      "run": run.name,
      "model": run.model,
      "seed": run.config.seed,
      "set": images.name,
      "unit": f"seed{run.config.seed}/fold{fold}/{image}",
      "id": image,
      "class": names[label],
      "predicted": names[p],
      "correct": float(label == p),
      "true_prob": float(probs[i, label]),
    }
    for i, (image, label, p) in enumerate(
      zip(images.ids, images.labels, predicted, strict=True)
    )
  ]


def run(
  name: str,
  study,
  members: Sequence[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Scores every run on its sets and writes the study's report.

  Returns:
    {'report': path (None on other processes), 'computed': images whose
    logits this launch computed, 'seconds': s}.
  """
  start = time.perf_counter()
  computed = 0
  rows, per_image = [], []
  for trained in members:
    restored = context.restore(trained)
    test = outputs.image_set(context, restored, "test")
    sets = [(test, "test", "")]
    for entry in study.sets:
      key = set_key(entry)
      if key:
        ext = outputs.image_set(context, restored, entry)
        sets += [(outputs.mapped_test(restored, ext), "in-distribution", key)]
        sets += [(ext, "external", key)]
    for images, kind, key in sets:
      logits, n = outputs.outputs(
        context, restored, images, "clean", outputs.clean_forward(restored),
        shape=(len(trained.class_names),), batch_size=study.batch_size,
      )  # fmt: skip
      computed += n
      if not is_main():
        continue
      probs = images.probabilities(outputs.probabilities(logits))
      rows.append(
        {
          "run": trained.name,
          "model": trained.model,
          "dataset": trained.config.data.name,
          "seed": trained.config.seed,
          "unit": f"seed{trained.config.seed}/fold{trained.config.data.fold}",
          "set": images.name,
          "kind": kind,
          "comparison": f"{trained.model} · {key}" if key else "",
          "images": len(images.ids),
          "removed": sum(images.removed.values()),
          **{f"removed_{k}": v for k, v in images.removed.items()},
          **metric_intervals(
            images.labels,
            probs,
            seed=study.seed,
            n_resamples=study.bootstrap_resamples,
          ),
        }
      )
      per_image += image_records(trained, images, probs)
  seconds = time.perf_counter() - start
  report = None
  if is_main():
    tables = build.external_tables(rows, per_image, METRICS, study.tests)
    report = study_report.write_study(
      out_dir,
      f"Study `{name}`: external validation",
      study.notes,
      [
        "Each run on its test split (own classes), on the test images "
        "whose class has a group of each external set (mapped to it: the "
        "in-distribution baseline), and on each external set without the "
        "copies of its training images. 95% intervals: seeded BCa "
        f"bootstrap over images ({study.bootstrap_resamples} resamples, "
        f"seed {study.seed}). This launch computed the logits of "
        f"{computed} images in {seconds:.1f} s (the rest came from the "
        "cache).",
      ],
      {"runs.csv": rows, "per_image.csv": per_image},
      tables,
    )
  console.say(f"Study {name}: {computed} images computed in {seconds:.1f} s.")
  return {"report": report, "computed": computed, "seconds": seconds}
