# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The calibration study: how well each run's probabilities match its
accuracy, before and after temperature scaling.

For every run, a temperature T is fitted on its VALIDATION split
(`xaijax.evaluate.fit_temperature`, the NLL optimum of softmax(z / T)) and
applied to each image set of the study (its test split, an external set:
there the scaled probabilities are mapped to the set's groups). Per set and
scaling: ECE (equal-width bins), adaptive ECE (equal-mass), classwise ECE,
MCE, Brier score and NLL (`calibration_metrics`), a reliability diagram
(PNG), and per image the NLL and Brier score, compared before and after
scaling by paired tests on the same images. Logits are cached: a rerun
computes nothing.
"""

import pathlib
import time
from collections.abc import Sequence

import numpy as np

from xaijax import console
from xaijax.evaluate import calibration
from xaijax.report import build
from xaijax.report import studies as study_report
from xaijax.study import outputs
from xaijax.study.batches import is_main
from xaijax.study.config import ConfigError
from xaijax.study.runs import Context, TrainedRun

SCALINGS = ("before", "after")


def per_image(fn, probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """(N,) `fn(probs, labels)` of each image alone (a mean over one image)."""
  return np.array(
    [fn(probs[i : i + 1], labels[i : i + 1]) for i in range(len(labels))]
  )


def _logits(context, restored, images, batch_size) -> tuple[np.ndarray, int]:
  return outputs.outputs(
    context, restored, images, "clean", outputs.clean_forward(restored),
    shape=(len(restored.run.class_names),), batch_size=batch_size,
  )  # fmt: skip


def run(
  name: str,
  study,
  members: Sequence[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Fits each run's temperature, scores its sets, writes the report.

  Returns:
    {'report': path (None on other processes), 'computed': images whose
    logits this launch computed, 'temperatures': {run: T}, 'seconds': s}.

  Raises:
    ConfigError: a run without a validation split.
  """
  start = time.perf_counter()
  out_dir = pathlib.Path(out_dir)
  computed = 0
  rows, records, figures, temperatures = [], [], [], {}
  for trained in members:
    restored = context.restore(trained)
    val = outputs.image_set(context, restored, "val")
    if not len(val.ids):
      raise ConfigError(
        f"Run '{trained.name}' has no validation split (data.val_fraction "
        "= 0): temperature scaling is fitted on it; train with one."
      )
    val_logits, n = _logits(context, restored, val, study.batch_size)
    computed += n
    temperature = calibration.fit_temperature(val_logits, val.labels)
    temperatures[trained.name] = temperature
    for set_name in study.sets:
      images = outputs.image_set(context, restored, set_name)
      logits, n = _logits(context, restored, images, study.batch_size)
      computed += n
      if not is_main():
        continue
      scaled = {
        "before": logits,
        "after": calibration.apply_temperature(logits, temperature),
      }
      for scaling in SCALINGS:
        probs = images.probabilities(outputs.probabilities(scaled[scaling]))
        labels = np.asarray(images.labels)
        metrics = calibration.calibration_metrics(probs, labels, study.n_bins)
        correct = probs.argmax(-1) == labels
        rows.append(
          {
            "run": trained.name,
            "model": trained.model,
            "seed": trained.config.seed,
            "set": images.name,
            "scaling": scaling,
            "temperature": temperature,
            "images": len(labels),
            "accuracy": float(correct.mean()),
            **metrics,
          }
        )
        nll = per_image(calibration.negative_log_likelihood, probs, labels)
        brier = per_image(calibration.brier_score, probs, labels)
        records += [
          {
            "run": trained.name,
            "model": trained.model,
            "set": images.name,
            "scaling": scaling,
            "unit": f"{trained.name}/{image}",
            "id": image,
            "correct": float(correct[i]),
            "confidence": float(probs[i].max()),
            "nll": float(nll[i]),
            "brier": float(brier[i]),
          }
          for i, image in enumerate(images.ids)
        ]
        path = pathlib.Path(
          "figures",
          study_report.build_slug(trained.name),
          f"{study_report.build_slug(images.name)}_{scaling}.png",
        )
        calibration.save_reliability_diagram(
          out_dir / path,
          calibration.reliability_diagram(probs, labels, study.n_bins),
          title=f"{trained.name} · {images.name}\n{scaling} scaling (T = "
          f"{temperature:.2f}): ECE {metrics['ece']:.3f}",
        )
        figures.append((f"{trained.name} {images.name} {scaling}", str(path)))
  seconds = time.perf_counter() - start
  report = None
  if is_main():
    report = study_report.write_study(
      out_dir,
      f"Study `{name}`: calibration",
      study.notes,
      [
        "Each run's temperature T is fitted on its validation split "
        "(minimum NLL of softmax(z / T)) and applied to every set; on an "
        "external set the scaled probabilities are mapped to its groups. "
        f"ECE and MCE: {study.n_bins} equal-width bins; adaptive ECE: "
        f"{study.n_bins} equal-mass bins; Brier: summed over classes; NLL "
        "in nats (docs/evaluate.md). Reliability diagrams: figures/. This "
        f"launch computed the logits of {computed} images in "
        f"{seconds:.1f} s (the rest came from the cache).",
      ],
      {"runs.csv": rows, "per_image.csv": records},
      build.calibration_tables(rows, records, study.tests),
      figures,
    )
  console.say(f"Study {name}: {computed} images computed in {seconds:.1f} s.")
  return {
    "report": report,
    "computed": computed,
    "temperatures": temperatures,
    "seconds": seconds,
  }
