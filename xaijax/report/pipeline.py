# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The downstream stage after training: explain, score, test, report.

`run` takes up to `config.xai.max_images` test images, computes the CAMs of
`config.xai.methods`, scores every map per image (confidence change family,
ROAD, and the pointing game / energy / IoU when the dataset has lesion
masks), appends the per-image rows to `workdir/xai/per_image.csv` batch by
batch, draws a figure grid and writes the report (paired t-tests between
methods, Holm-corrected). An interrupted run resumes after the images already
in the CSV; a finished one (`xai/done.json`) only rewrites the report.

Config keys read from `config.xai` (defaults in brackets):
  methods, layer ('' or None: the model's default layer), max_images,
  batch_size, cam [{}: keyword options of `xaijax.explain.cams`, e.g.
  chunk_size, eigen_sign], road_percentiles [(20, 40, 60, 80)],
  road_noise [0.01], seed [config.seed or 0], figure_images [8].
`config.data.mean` / `config.data.std` undo the normalisation for figures.
"""

import json
import os
from collections.abc import Callable, Mapping

import flax.linen as nn
import jax
import numpy as np

from xaijax import evaluate, stats
from xaijax.evaluate import _model
from xaijax.explain import cam as cam_lib
from xaijax.explain import visualize
from xaijax.report import build, tables

CONFIDENCE_COLUMNS = (
  "delta",
  "increase",
  "drop",
  "avg_drop_pct",
  "increase_pct",
  "logit_delta",
  "p_clean",
  "p_masked",
)


def _mask(example: Mapping):
  return example.get("lesion_mask")  # Only datasets with masks have one.


def select_images(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
  """(n,) indices of a class-balanced, seeded sample of a split.

  Test splits are usually stored class by class, so their first n images
  would all be of one class; this takes the classes in turn (each one's
  images in a seeded random order) until n are chosen or a class runs out.
  """
  rng = np.random.default_rng(seed)
  queues = [
    list(rng.permutation(np.flatnonzero(labels == c)))
    for c in np.unique(labels)
  ]
  chosen = []
  while len(chosen) < n:
    for queue in queues:
      if queue and len(chosen) < n:
        chosen.append(queue.pop(0))
  return np.asarray(chosen, np.int64)


def _batch(split, indices, size: int):
  """Images (size, H, W, 3), labels, masks or None; padded by repetition so
  every batch has one shape (one compilation)."""
  examples = [split.example(int(i)) for i in indices]
  examples += [examples[-1]] * (size - len(examples))
  images = np.stack([e["image"] for e in examples]).astype(np.float32)
  labels = np.array([e["label"] for e in examples], np.int32)
  masks = [_mask(e) for e in examples]
  masks = None if masks[0] is None else np.stack(masks).astype(np.float32)
  return images, labels, masks


def _records(ids, indices, labels, class_names, scores, methods):
  rows = []
  for j, index in enumerate(indices):
    for m in methods:
      row = {
        "id": ids[j],
        "index": int(index),
        "label": int(labels[j]),
        "class": class_names[labels[j]],
        "method": m,
        "target": int(scores[m]["target"][j]),
      }
      row |= {k: float(v[j]) for k, v in scores[m].items() if k != "target"}
      rows.append(row)
  return rows


def _score_batch(module, variables, images, masks, maps, xai, key):
  """{method: {column: (B,)}} for one batch of images and their maps."""
  b = len(images)
  clean = _model.logits(module, variables, images, batch_size=b)
  conf = evaluate.confidence_scores(
    module, variables, images, maps, logits=clean, batch_size=b
  )
  percentiles = tuple(xai.get("road_percentiles", (20, 40, 60, 80)))
  road = evaluate.road_scores(
    module, variables, images, maps, percentiles=percentiles,
    noise=xai.get("road_noise", 0.01), key=key, logits=clean, batch_size=b,
  )  # fmt: skip
  out = {}
  for m in maps:
    scores = {k: conf[m][k] for k in ("target", *CONFIDENCE_COLUMNS)}
    scores["road_combined"] = road[m]["combined"]
    for i, p in enumerate(percentiles):
      scores[f"road_morf_p{p:g}"] = road[m]["morf"][:, i]
      scores[f"road_lerf_p{p:g}"] = road[m]["lerf"][:, i]
    if masks is not None:
      scores |= evaluate.localization_scores(np.asarray(maps[m]), masks)
    out[m] = scores
  return out


def run(
  config,
  workdir: str,
  module: nn.Module,
  variables: Mapping,
  dataset,
  *,
  explain_fn: Callable | None = None,
) -> dict:
  """Explains, scores and reports on the test split.

  Args:
    config: the run's ConfigDict (reads `config.xai`, `config.data`).
    workdir: the run directory; outputs go to workdir/xai and
      workdir/report.
    module, variables: the trained classifier.
    dataset: an `xaijax.data.Dataset` (uses `.test`, `.class_names`).
    explain_fn: (module, variables, images, *, methods, layer, key,
      **config.xai.cam) -> {method: (B, H, W)}; default
      `xaijax.explain.cams`.

  Returns:
    {'per_image': CSV path, 'report': report.md path, 'num_images': n,
    'summary': {method: {column: mean}}, 'tests': compare_grid rows for the
    confidence change}.
  """
  if explain_fn is None:
    explain_fn = cam_lib.cams
  xai = config.xai
  methods = list(xai.methods)
  if not methods:
    raise ValueError("config.xai.methods is empty: name at least one CAM.")
  layer = xai.layer or None
  cam_options = dict(xai.get("cam") or {})
  unknown = sorted(set(cam_options) - set(cam_lib.OPTION_NAMES))
  if unknown:
    raise ValueError(
      f"Unknown config.xai.cam option(s) {', '.join(unknown)}; valid: "
      f"{', '.join(cam_lib.OPTION_NAMES)} (see docs/explain.md)."
    )
  size = int(xai.batch_size)
  split = dataset.test
  n = min(int(xai.max_images), len(split))
  out_dir = os.path.join(workdir, "xai")
  csv_path = os.path.join(workdir, build.PER_IMAGE_CSV)
  done_path = os.path.join(out_dir, "done.json")
  os.makedirs(os.path.join(workdir, build.FIGURES_DIR), exist_ok=True)
  seed = xai.get("seed", config.get("seed", 0))
  order = select_images(np.asarray(split.labels), n, seed)
  key = jax.random.key(seed)
  n_figure = min(int(xai.get("figure_images", 8)), n)
  grid_path = os.path.join(workdir, build.FIGURES_DIR, "grid.png")
  start = 0
  if os.path.exists(done_path):
    start = n
  elif os.path.exists(csv_path):
    start = len(tables.read_records(csv_path)) // len(methods)
  shown: dict[str, list] = {"images": [], "masks": [], "titles": []}
  shown_maps: dict[str, list] = {m: [] for m in methods}
  ids = [str(i) for i in split.ids]
  class_names = tuple(dataset.class_names)
  for lo in range(start, n, size):
    indices = order[lo : min(lo + size, n)]
    images, labels, masks = _batch(split, indices, size)
    explain_key, score_key = jax.random.split(jax.random.fold_in(key, lo))
    maps = explain_fn(
      module,
      variables,
      images,
      methods=methods,
      layer=layer,
      key=explain_key,
      **cam_options,
    )
    maps = {m: np.asarray(maps[m]) for m in methods}
    scores = _score_batch(
      module, variables, images, masks, maps, xai, score_key
    )
    valid = len(indices)
    scores = {
      m: {k: v[:valid] for k, v in s.items()} for m, s in scores.items()
    }
    batch_ids = [ids[i] for i in indices]
    tables.append_records(
      csv_path,
      _records(batch_ids, indices, labels, class_names, scores, methods),
    )
    take = max(0, min(n_figure - len(shown["images"]), valid))
    if take and not os.path.exists(grid_path):
      shown["images"] += list(images[:take])
      shown["masks"] += [] if masks is None else list(masks[:take])
      shown["titles"] += [
        f"{batch_ids[j][-18:]}\n{class_names[labels[j]]}" for j in range(take)
      ]
      for m in methods:
        shown_maps[m] += list(maps[m][:take])
  if shown["images"]:
    visualize.save_grid(
      grid_path,
      np.stack(shown["images"]),
      {m: np.stack(v) for m, v in shown_maps.items()},
      masks=np.stack(shown["masks"]) if shown["masks"] else None,
      row_titles=shown["titles"],
      mean=config.data.mean,
      std=config.data.std,
    )
  records = tables.read_records(csv_path) if os.path.exists(csv_path) else []
  summary = {
    m: {
      k: float(np.nanmean([r[k] for r in records if r["method"] == m]))
      for k in (*CONFIDENCE_COLUMNS, "road_combined")
    }
    for m in methods
  }
  tests = stats.compare_grid(
    stats.align(records, unit="id", arm="method", value="delta")
  )
  with open(done_path, "w") as f:
    json.dump({"num_images": n, "methods": methods, "summary": summary}, f)
  paths = build.write_report(workdir)
  return {
    "per_image": csv_path,
    "report": paths["report"],
    "num_images": n,
    "summary": summary,
    "tests": tests,
  }
