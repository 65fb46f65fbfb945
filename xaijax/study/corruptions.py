# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The corruption study: accuracy and calibration of each run as its
images are corrupted (`xaijax.data.corruptions`, 14 corruptions x 5
severities).

Each image is corrupted in [0, 1] (the normalisation undone and redone),
the random corruptions drawing from the key (seed, image id), so an image's
corruption does not depend on its batch or on the other images studied.
Per run, image set, corruption and severity (0 = clean): accuracy, ECE and
NLL; curves against severity per model (PNG); paired tests between models
on the same corrupted images. Logits are cached per (run, set, corruption,
severity, seed, image): a rerun computes nothing, and adding a corruption
computes only it.
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
from xaijax.study.runs import Context, TrainedRun

CLEAN = "none"  # the corruption of severity 0


def run(
  name: str,
  study,
  members: Sequence[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Scores every run on every corrupted set and writes the report.

  Returns:
    {'report': path (None on other processes), 'computed': images whose
    logits this launch computed, 'seconds': s}.
  """
  start = time.perf_counter()
  out_dir = pathlib.Path(out_dir)
  computed = 0
  rows, records = [], []
  variants = [(CLEAN, 0)] + [
    (c, s) for c in study.corruptions for s in study.severities
  ]
  for trained in members:
    restored = context.restore(trained)
    k = len(trained.class_names)
    for set_name in study.sets:
      images = outputs.image_set(context, restored, set_name)
      for corruption, severity in variants:
        if corruption == CLEAN:
          variant, forward = "clean", outputs.clean_forward(restored)
        else:
          variant = outputs.corrupt_variant(corruption, severity, study.seed)
          forward = outputs.corrupt_forward(
            restored, corruption, severity, study.seed
          )
        logits, n = outputs.outputs(
          context, restored, images, variant, forward, shape=(k,),
          batch_size=study.batch_size,
        )  # fmt: skip
        computed += n
        if not is_main():
          continue
        probs = images.probabilities(outputs.probabilities(logits))
        labels = np.asarray(images.labels)
        correct = (probs.argmax(-1) == labels).astype(np.float64)
        rows.append(
          {
            "run": trained.name,
            "model": trained.model,
            "seed": trained.config.seed,
            "set": images.name,
            "corruption": corruption,
            "severity": severity,
            "images": len(labels),
            "accuracy": float(correct.mean()),
            "ece": calibration.expected_calibration_error(
              probs, labels, study.n_bins
            ),
            "nll": calibration.negative_log_likelihood(probs, labels),
          }
        )
        unit = f"seed{trained.config.seed}/fold{trained.config.data.fold}"
        records += [
          {
            "run": trained.name,
            "model": trained.model,
            "set": images.name,
            "corruption": corruption,
            "severity": severity,
            "unit": f"{unit}/{corruption}/{image}",
            "id": image,
            "correct": correct[i],
            "confidence": float(probs[i].max()),
          }
          for i, image in enumerate(images.ids)
        ]
  seconds = time.perf_counter() - start
  report = None
  if is_main():
    figures = _figures(out_dir, rows, study)
    report = study_report.write_study(
      out_dir,
      f"Study `{name}`: corruption robustness",
      study.notes,
      [
        f"Corruptions {', '.join(study.corruptions)} at severities "
        f"{', '.join(map(str, study.severities))} (0 = clean), random ones "
        f"drawn per image from seed {study.seed}; ECE over {study.n_bins} "
        "equal-width bins; external sets mapped to their groups. Curves: "
        "mean over each model's runs. This launch computed the logits of "
        f"{computed} images in {seconds:.1f} s (the rest came from the "
        "cache).",
      ],
      {"runs.csv": rows, "per_image.csv": records},
      build.corruption_tables(rows, records, study.tests),
      figures,
    )
  console.say(f"Study {name}: {computed} images computed in {seconds:.1f} s.")
  return {"report": report, "computed": computed, "seconds": seconds}


def _figures(out_dir: pathlib.Path, rows, study) -> list[tuple[str, str]]:
  """Accuracy and ECE against severity per (model, set): one curve per
  corruption and their mean, means over the model's runs."""
  figures = []
  pairs = dict.fromkeys((r["model"], r["set"]) for r in rows)
  severities = (0, *study.severities)
  for model, set_name in pairs:
    mine = [r for r in rows if r["model"] == model and r["set"] == set_name]

    def mean(value, corruption, severity, mine=mine):
      return float(
        np.mean(
          [
            r[value]
            for r in mine
            if r["severity"] == severity
            and r["corruption"] in (corruption, CLEAN)
          ]
        )
      )

    for value in ("accuracy", "ece"):
      curves = {
        c: (severities, [mean(value, c, s) for s in severities])
        for c in study.corruptions
      }
      every = np.array([y for _, y in curves.values()])
      curves["mean"] = (severities, every.mean(0))
      path = pathlib.Path(
        "figures",
        f"{study_report.build_slug(f'{model}__{set_name}')}_{value}.png",
      )
      study_report.save_curves(
        out_dir / path,
        curves,
        xlabel="severity (0 = clean)",
        ylabel=value,
        title=f"{model}, {set_name}",
        bold=("mean",),
      )
      figures.append((f"{model}, {set_name}: {value}", str(path)))
  return figures
