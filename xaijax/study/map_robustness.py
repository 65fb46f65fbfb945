# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The map robustness study: do CAM maps survive corrupted inputs and
input noise?

For every run, its images (the test split or an external set, as the CAM
study's `images`), one target policy and one selection give the cells
(image, explained class). With the CAM study's batching and cache
(`cams.compute_maps`, `cams.compute_scores`), each cell is explained on the
clean image and on every corruption x severity (the corrupted maps are
cached under the CAM options' key plus the corruption's), then:

* similarity of clean and corrupted maps: Spearman rank correlation, SSIM,
  IoU of the top-k pixels (`xaijax.evaluate.map_similarity`);
* 'confidence': the maps' confidence change Δ on clean and corrupted
  images, and the model's probability of the explained class on each (its
  change under corruption);
* 'localization': pointing game, energy pointing game and IoU against the
  lesion masks (PH2's real lesions, the synthetic set's), clean and
  corrupted; not for rotation and shift, which move the lesion away from
  its mask;
* Max-Sensitivity, Avg-Sensitivity and the Local Lipschitz Estimate
  (Quantus' definitions, `xaijax.evaluate.robustness`) on the clean
  images, cached per cell;

with paired tests between methods on the same cells. A rerun computes
nothing; adding a corruption or a method computes only its cells.
"""

import dataclasses
import pathlib
import time
import zlib
from collections.abc import Sequence

import jax
import numpy as np

from xaijax import console, evaluate, explain
from xaijax.evaluate import scoring
from xaijax.report import build
from xaijax.report import studies as study_report
from xaijax.study import cams, outputs, selection
from xaijax.study.batches import Batches, broadcast, is_main
from xaijax.study.cache import fingerprint
from xaijax.study.config import SENSITIVITY_METRICS, expand_layers
from xaijax.study.runs import Context, TrainedRun

CLEAN = "none"
# Corruptions that move the image content: a lesion mask no longer marks
# the lesion of the corrupted image.
GEOMETRIC = ("rotation", "shift")
SIMILARITIES = ("spearman", "ssim", "top_k_iou")
_SENSITIVITY = {
  "max_sensitivity": evaluate.max_sensitivity,
  "avg_sensitivity": evaluate.avg_sensitivity,
  "local_lipschitz": evaluate.local_lipschitz_estimate,
}


def _sensitivity_settings(study, metric: str) -> str:
  s = study.sensitivity
  noise = s.std if metric == "local_lipschitz" else s.radius
  return fingerprint([s.num_samples, noise, study.seed])


def _compute_sensitivity(
  cache, restored, batches, layers, methods, options, options_id, study
) -> int:
  """Quantus' robustness scores of every batch's missing cells."""
  run_id = restored.run.fingerprint
  computed = 0
  s = study.sensitivity
  for metric in (m for m in study.metrics if m in SENSITIVITY_METRICS):
    settings = _sensitivity_settings(study, metric)
    noise = (
      {"std": s.std} if metric == "local_lipschitz" else {"radius": s.radius}
    )
    for layer in layers:
      for m in methods:
        for batch in batches.batches:
          missing = None
          if is_main():
            missing = np.array(
              bool(cache.missing_scores(run_id, layer, m, options_id, metric,
                                        settings, batch))
            )  # fmt: skip
          if not broadcast(missing, np.array(False)):
            continue
          images, _ = batches.arrays(batch)
          targets = batches.targets(batch)

          def explain_fn(x, key, layer=layer, m=m, targets=targets):
            return explain.cams(
              restored.module, restored.variables, x, methods=(m,),
              layer=layer, targets=targets, key=key, **options,
            )[m]  # fmt: skip

          key = jax.random.fold_in(
            jax.random.key(study.seed), zlib.crc32(batch[0][0].encode())
          )
          values = _SENSITIVITY[metric](
            explain_fn, images, key, num_samples=s.num_samples, **noise
          )
          if is_main():
            todo = cache.missing_scores(
              run_id, layer, m, options_id, metric, settings, batch
            )
            rows = [i for i, cell in enumerate(batch) if cell in todo]
            cache.put_scores(
              run_id, layer, m, options_id, metric, settings,
              [batch[i] for i in rows], {metric: values[rows]},
            )  # fmt: skip
            computed += len(rows)
  return computed


def run(
  name: str,
  study,
  members: Sequence[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Computes the missing maps and scores and writes the report.

  Returns:
    {'report': path (None on other processes), 'maps', 'scores': computed
    in this launch, 'seconds': s}.
  """
  start = time.perf_counter()
  cache, mesh = context.cache, context.mesh
  methods = tuple(study.methods)
  score_options = scoring.ScoreOptions(**dict(study.scores))
  settings = {
    "confidence": "-",
    "localization": fingerprint([score_options.iou_threshold]),
  }
  variants = [(CLEAN, 0)] + [
    (c, s) for c in study.corruptions for s in study.severities
  ]
  computed_maps = computed_scores = 0
  records = []
  for trained in members:
    restored = context.restore(trained)
    explained = cams.explained_images(
      context, restored, study.images, study.batch_size
    )
    options, options_id = cams.map_options(study, explained.options_id)
    layers = expand_layers(
      restored.module, trained.config.data.image_size, study.layers
    )
    names = explained.class_names
    targets = selection.targets(
      study.target, explained.labels, explained.predictions, names
    )
    indices = selection.select(
      study.selection, explained.labels, explained.predictions, names,
      max_images=study.max_images, seed=study.seed,
    )  # fmt: skip
    view = cams.View(
      study.target, study.selection, indices,
      explained.run_targets(targets[indices], indices), "",
    )  # fmt: skip
    cells = cams.view_cells(explained, [view])
    if not cells:
      continue
    batches = Batches(explained.images.split, cells, study.batch_size)
    console.say(
      f"Study {name}, run {trained.name}: {len(cells)} cells x "
      f"{len(layers)} layer(s) x {len(methods)} method(s) x "
      f"{len(variants)} variants."
    )
    cfg = trained.config.data
    ids = {}
    for corruption, severity in variants:
      transform, key = None, options_id
      if corruption != CLEAN:
        variant = outputs.corrupt_variant(corruption, severity, study.seed)
        key = fingerprint([options_id, variant])

        def transform(x, image_ids, c=corruption, s=severity, cfg=cfg):
          return outputs.corrupt_images(x, image_ids, cfg, c, s, study.seed)

      ids[corruption, severity] = key
      computed_maps += cams.compute_maps(
        cache, restored, batches, layers, methods, options, key, mesh,
        study.seed, transform,
      )  # fmt: skip
      metrics = [
        m
        for m in ("confidence", "localization")
        if m in study.metrics
        and not (m == "localization" and corruption in GEOMETRIC)
      ]
      computed_scores += cams.compute_scores(
        cache, restored, batches, layers, methods, key, metrics,
        score_options, settings, study.seed, transform,
      )  # fmt: skip
    computed_scores += _compute_sensitivity(
      cache, restored, batches, layers, methods,
      dataclasses.asdict(options), options_id, study,
    )  # fmt: skip
    if is_main():
      records += _records(
        cache, explained, cells, layers, methods, ids, study, settings
      )
  seconds = time.perf_counter() - start
  report = None
  if is_main():
    described = selection.describe(
      study.selection, study.target, study.max_images, study.seed
    )
    report = study_report.write_study(
      out_dir,
      f"Study `{name}`: robustness of CAM maps",
      study.notes,
      [
        f"Methods {', '.join(methods)} on {study.images} images "
        f"({described}); "
        f"corruptions {', '.join(study.corruptions)} at severities "
        f"{', '.join(map(str, study.severities))}, drawn per image (seed "
        f"{study.seed}). Similarity of clean and corrupted maps: Spearman, "
        f"SSIM (11x11 Gaussian window), IoU of the top {study.top_k:.0%} "
        "pixels. Sensitivity (clean images, Quantus' definitions): "
        f"{study.sensitivity.num_samples} noise samples, uniform radius "
        f"{study.sensitivity.radius} (Max/Avg-Sensitivity), Gaussian std "
        f"{study.sensitivity.std} (Local Lipschitz). Localisation is not "
        f"scored under {', '.join(GEOMETRIC)} (the lesion moves off its "
        f"mask). This launch computed {computed_maps} maps and "
        f"{computed_scores} scores in {seconds:.1f} s (the rest came from "
        "the cache).",
      ],
      {"per_image.csv": records},
      build.map_robustness_tables(records, study.tests),
    )
  console.say(
    f"Study {name}: computed {computed_maps} maps and {computed_scores} "
    f"scores in {seconds:.1f} s (the rest from the cache)."
  )
  return {
    "report": report,
    "maps": computed_maps,
    "scores": computed_scores,
    "seconds": seconds,
  }


def _records(cache, explained, cells, layers, methods, ids, study,
             settings) -> list[dict]:  # fmt: skip
  """One record per (layer, method, variant, cell): similarity to the clean
  map, the scores of the variant's map, and the clean cell's sensitivity."""
  run = explained.restored.run
  names = explained.class_names
  index = {image: i for i, image in enumerate(explained.ids)}
  records = []
  for layer in layers:
    for m in methods:
      clean = cache.get_maps(run.fingerprint, layer, m, ids[CLEAN, 0], cells)
      sensitivity = {
        metric: cache.get_scores(
          run.fingerprint,
          layer,
          m,
          ids[CLEAN, 0],
          metric,
          _sensitivity_settings(study, metric),
        )
        for metric in study.metrics
        if metric in SENSITIVITY_METRICS
      }
      for (corruption, severity), key in ids.items():
        maps = cache.get_maps(run.fingerprint, layer, m, key, cells)
        similar = (
          evaluate.map_similarity(clean, maps, fraction=study.top_k)
          if corruption != CLEAN
          else {}
        )
        scores = {
          metric: cache.get_scores(
            run.fingerprint, layer, m, key, metric, settings[metric]
          )
          for metric in ("confidence", "localization")
          if metric in study.metrics
        }
        for k, (image, target) in enumerate(cells):
          i = index[image]
          record = {
            "run": run.name,
            "model": run.model,
            "layer": layer,
            "method": m,
            "corruption": corruption,
            "severity": severity,
            "unit": f"{severity}/{image}",
            "id": image,
            "class": names[int(explained.labels[i])],
            "explained": run.class_names[target],
          }
          record |= {v: float(similar[v][k]) for v in similar}
          for metric, cached in scores.items():
            values = cached.get((image, target), {})
            if metric == "localization":
              record |= values
            elif values:
              # p_clean is the explained class's probability on the image
              # scored, here possibly a corrupted one.
              record |= {
                "delta": values["delta"],
                "p_target": values["p_clean"],
              }
          if corruption == CLEAN:
            for cached in sensitivity.values():
              record |= cached.get((image, target), {})
          records.append(record)
  return records
