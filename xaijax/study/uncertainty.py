# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The uncertainty study: predictive uncertainty and selective prediction
of single runs, deep ensembles, test-time augmentation and MC dropout.

Runs that differ only in their seed form an ensemble group. For every group
and image set, the predictors are stacks of member probabilities (M, N, K)
in the set's classes (an external set's groups: each member's
probabilities mapped, `xaijax.data.map_probabilities`):

* 'single': each run alone (M = 1);
* 'ensemble': the group's runs (M = runs; needs two or more);
* 'tta': each run on the views of `xaijax.evaluate.tta_views` (M = views);
* 'mc_dropout': each run's Monte Carlo dropout passes (M = mc_samples;
  VGG16 and EfficientNet-B0 only), image i's masks from key (seed, i).

Per image: the mean prediction's correctness and confidence, predictive
entropy, expected entropy and mutual information (nats). Per predictor:
accuracy, the risk-coverage curve (PNG), AURC and E-AURC. Do ensembles, TTA
or MC dropout move accuracy? Paired tests per image answer it: each
predictor's correctness on the same images (for the per-run predictors,
the mean over the group's runs: the expected correctness of one run).
Every forward is cached: a rerun computes nothing.
"""

import pathlib
import time
from collections.abc import Sequence

import numpy as np

from xaijax import console
from xaijax.evaluate import uncertainty as unc
from xaijax.report import build
from xaijax.report import studies as study_report
from xaijax.study import outputs
from xaijax.study.batches import is_main
from xaijax.study.cache import fingerprint
from xaijax.study.config import check_mc_dropout
from xaijax.study.runs import Context, RestoredRun, TrainedRun

PER_RUN = ("single", "tta", "mc_dropout")


def ensemble_groups(members: Sequence[TrainedRun]) -> dict[str, list]:
  """{label: runs} of runs whose training configs differ only in the
  seed, in first-seen order."""
  groups: dict[str, list] = {}
  labels: dict[str, str] = {}
  for run in members:
    config = {k: v for k, v in run.config.to_dict().items() if k != "seed"}
    key = fingerprint(config)
    if key not in labels:
      label = f"{run.model} · {run.config.data.name}"
      taken = sum(v.startswith(label) for v in labels.values())
      labels[key] = label + (f" #{taken + 1}" if taken else "")
    groups.setdefault(labels[key], []).append(run)
  return groups


def _member_probs(context, restored: RestoredRun, images, study, method):
  """(M, N, K_set) probabilities of one run's predictor `method`."""
  k = len(restored.run.class_names)
  if method == "single":
    variant, forward, shape = "clean", outputs.clean_forward(restored), (k,)
  elif method == "tta":
    variant = f"tta:{','.join(study.tta_views)}:{study.tta_shift}"
    forward = outputs.tta_forward(restored, study.tta_views, study.tta_shift)
    shape = (len(study.tta_views), k)
  else:
    variant = f"mc_dropout:{study.mc_samples}:{study.seed}"
    forward = outputs.mc_forward(restored, study.mc_samples, study.seed)
    shape = (study.mc_samples, k)
  logits, computed = outputs.outputs(
    context, restored, images, variant, forward, shape=shape,
    batch_size=study.batch_size,
  )  # fmt: skip
  probs = images.probabilities(outputs.probabilities(logits))
  stack = probs[None] if method == "single" else np.swapaxes(probs, 0, 1)
  return stack, computed


def summarise(member_probs: np.ndarray, labels, confidence: str) -> dict:
  """Per-image uncertainty of a stack (M, N, K) and its selective scores.

  Returns:
    {'predicted', 'correct', 'confidence', 'predictive_entropy',
    'expected_entropy', 'mutual_information': (N,) each; 'coverage',
    'risk': (N,) the risk-coverage curve; 'aurc', 'e_aurc': floats}.
  """
  mean = member_probs.mean(0)
  predicted = mean.argmax(-1)
  correct = (predicted == np.asarray(labels)).astype(np.float64)
  entropy = unc.predictive_entropy(member_probs)
  kappa = mean.max(-1) if confidence == "max_prob" else -entropy
  coverage, risk = unc.risk_coverage_curve(kappa, correct)
  return {
    "predicted": predicted,
    "correct": correct,
    "confidence": kappa,
    "predictive_entropy": entropy,
    "expected_entropy": unc.expected_entropy(member_probs),
    "mutual_information": unc.mutual_information(member_probs),
    "coverage": coverage,
    "risk": risk,
    "aurc": unc.aurc(kappa, correct),
    "e_aurc": unc.e_aurc(kappa, correct),
  }


def run(
  name: str,
  study,
  members: Sequence[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Scores every predictor of every ensemble group and writes the report.

  Returns:
    {'report': path (None on other processes), 'computed': images whose
    forward passes this launch computed, 'seconds': s}.
  """
  start = time.perf_counter()
  out_dir = pathlib.Path(out_dir)
  methods = ("single", *study.methods)
  if "mc_dropout" in methods:
    for trained in members:
      check_mc_dropout(f"config.studies.{name}", trained.name, trained.model)
  computed = 0
  rows, records, paired, figures = [], [], [], []
  for group, runs in ensemble_groups(members).items():
    restored_runs = [context.restore(r) for r in runs]
    for set_name in study.sets:
      # The group's runs share their data (they differ in the seed only).
      images = outputs.image_set(context, restored_runs[0], set_name)
      predictors = []  # (method, run label, (M, N, K) stack)
      for method in (m for m in methods if m in PER_RUN):
        for restored in restored_runs:
          stack, n = _member_probs(context, restored, images, study, method)
          computed += n
          predictors.append((method, restored.run.name, stack))
      if "ensemble" in methods and len(runs) > 1:
        singles = [s for m, _, s in predictors if m == "single"]
        predictors.append(
          ("ensemble", f"{len(runs)} runs", np.concatenate(singles))
        )
      if not is_main():
        continue
      curves = {}
      per_method: dict[str, list] = {}
      for method, label, stack in predictors:
        s = summarise(stack, images.labels, study.confidence)
        rows.append(
          {
            "group": group,
            "set": images.name,
            "predictor": method,
            "run": label,
            "members": len(stack),
            "images": len(images.ids),
            "accuracy": float(s["correct"].mean()),
            "aurc": s["aurc"],
            "e_aurc": s["e_aurc"],
            "predictive_entropy": float(s["predictive_entropy"].mean()),
            "mutual_information": float(s["mutual_information"].mean()),
          }
        )
        names = images.class_names
        records += [
          {
            "group": group,
            "set": images.name,
            "predictor": method,
            "run": label,
            "id": image,
            "class": names[int(images.labels[i])],
            "predicted": names[int(s["predicted"][i])],
            **{
              k: float(s[k][i])
              for k in (
                "correct",
                "confidence",
                "predictive_entropy",
                "expected_entropy",
                "mutual_information",
              )
            },
          }
          for i, image in enumerate(images.ids)
        ]
        per_method.setdefault(method, []).append(s["correct"])
        curves[f"{method} {label}"] = (s["coverage"], 1 - s["risk"])
      for method, values in per_method.items():
        paired += [
          {
            "group": f"{group} · {images.name}",
            "unit": image,
            "predictor": method,
            "correct": float(v),
          }
          for image, v in zip(images.ids, np.mean(values, 0), strict=True)
        ]
      path = pathlib.Path(
        "figures",
        f"{study_report.build_slug(f'{group}__{images.name}')}.png",
      )
      study_report.save_curves(
        out_dir / path,
        curves,
        xlabel="coverage",
        ylabel="accuracy",
        title=f"{group}, {images.name}: accuracy-coverage",
        bold=[k for k in curves if k.startswith("ensemble")],
      )
      figures.append((f"{group}, {images.name}", str(path)))
  seconds = time.perf_counter() - start
  report = None
  if is_main():
    report = study_report.write_study(
      out_dir,
      f"Study `{name}`: uncertainty and selective prediction",
      study.notes,
      [
        "Predictors: " + ", ".join(methods) + ". Ensembles: runs that "
        "differ only in their seed; TTA views "
        f"{', '.join(study.tta_views)} (shift {study.tta_shift} px); MC "
        f"dropout: {study.mc_samples} passes (seed {study.seed}). "
        "Probabilities are averaged over members (external sets: mapped to "
        "their groups first). Entropies in nats; AURC and E-AURC rank "
        f"images by {study.confidence}. Paired tests: per image, each "
        "predictor's correctness (per-run predictors: mean over the "
        "group's runs). This launch computed the forward passes of "
        f"{computed} images in {seconds:.1f} s (the rest came from the "
        "cache).",
      ],
      {"runs.csv": rows, "per_image.csv": records},
      build.uncertainty_tables(rows, paired, study.tests),
      figures,
    )
  console.say(f"Study {name}: {computed} images computed in {seconds:.1f} s.")
  return {"report": report, "computed": computed, "seconds": seconds}
