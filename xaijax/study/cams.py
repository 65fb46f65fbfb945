# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The CAM study: runs x layers x methods x targets x selections x metrics.

For each run, the cells the study asks for are (image, explained class)
pairs: the union, over target policies and image selections, of the
selected images with their policy's class. They are explained in fixed
batches (the same composition on every rerun, so a resumed study computes
exactly what an uninterrupted one would), every missing (layer, method) of a
batch in ONE `cams_by_layer` call (one forward, one backward, all layers of a
sweep), then scored metric by metric. Maps and scores go to the cache as each
batch finishes; tables, figures and the report are then built from the cache.

Multi-host: the images of a batch are sharded over the mesh (each process
loads its rows), the maps gathered; process 0 reads and writes the cache and
broadcasts what the others need.
"""

import dataclasses
import os
import pathlib
import re
import time
import zlib

import jax
import numpy as np
from jax.experimental import multihost_utils

import xaijax.data
from xaijax import console, evaluate, explain
from xaijax.evaluate import scoring
from xaijax.explain import visualize
from xaijax.report import studies as study_report
from xaijax.study import outputs as outputs_lib
from xaijax.study import selection
from xaijax.study.batches import (
  Batches,
  broadcast,
  image_keys,
  is_main,
  local_rows,
  padded,
)
from xaijax.study.cache import cells_in_order, fingerprint
from xaijax.study.config import expand_layers, set_key
from xaijax.study.runs import Context, RestoredRun, TrainedRun

_SEP = "\t"  # joins layer and method in score_maps' keys


@dataclasses.dataclass(frozen=True)
class Explained:
  """The images a CAM study explains for one run, and what it knows of them.

  Attributes:
    restored: the run.
    images: the image set (`outputs.ImageSet`): the test split or an
      external set.
    labels: (N,) true classes, in `images.class_names`.
    predictions: (N,) predicted classes, in `images.class_names`.
    as_run_class: (N, K_set) int32: the run class that explains set class
      c on image i: c itself on the run's own split; on an external set,
      the run class of group c that the model finds most probable on i.
    options_id: what keys its maps besides the CAM options (the external
      set's source; '' for the test split, the cache's original key).
  """

  restored: RestoredRun
  images: object
  labels: np.ndarray
  predictions: np.ndarray
  as_run_class: np.ndarray
  options_id: str

  @property
  def class_names(self) -> tuple[str, ...]:
    return tuple(self.images.class_names)

  @property
  def ids(self) -> list[str]:
    return self.images.ids

  def run_targets(self, targets: np.ndarray, indices: np.ndarray):
    """(n,) run classes of set classes `targets` on images `indices`."""
    return self.as_run_class[indices, targets].astype(np.int32)


def explained_images(
  context: Context, restored: RestoredRun, name: str, batch_size: int
) -> Explained:
  """The images `name` ('test' or 'external:<key>') of a run, for a CAM
  study; an external set's predictions come from the cached clean logits."""
  images = outputs_lib.image_set(context, restored, name)
  k = len(restored.run.class_names)
  if not set_key(name):
    eye = np.broadcast_to(np.arange(k, dtype=np.int32), (len(images.ids), k))
    return Explained(
      restored, images, restored.labels, restored.predictions, eye, ""
    )
  logits, _ = outputs_lib.outputs(
    context, restored, images, "clean",
    outputs_lib.clean_forward(restored), shape=(k,), batch_size=batch_size,
  )  # fmt: skip
  probs = outputs_lib.probabilities(logits)
  groups = outputs_lib.group_of_class(images.label_map)
  # Per image and group: the group's most probable run class.
  in_group = groups[None, :, None] == np.arange(len(images.class_names))
  masked = np.where(in_group, probs[:, :, None], -1.0)
  return Explained(
    restored,
    images,
    np.asarray(images.labels, np.int32),
    images.probabilities(probs).argmax(-1).astype(np.int32),
    masked.argmax(1).astype(np.int32),
    images.source,
  )


@dataclasses.dataclass(frozen=True)
class View:
  """One (target policy, selection) view of a run: which cells a table has.

  Attributes:
    policy, selection: as configured.
    indices: (n,) test-split indices of the selected images.
    targets: (n,) explained class of each.
    context: what the view shows, for captions.
  """

  policy: str
  selection: str
  indices: np.ndarray
  targets: np.ndarray
  context: str


def _views(study, explained: Explained) -> list[View]:
  names = explained.class_names
  views = []
  for policy in study.targets:
    targets = selection.targets(
      policy, explained.labels, explained.predictions, names
    )
    for chosen in study.selections:
      indices = selection.select(
        chosen, explained.labels, explained.predictions, names,
        max_images=study.max_images, seed=study.seed,
      )  # fmt: skip
      context = selection.describe(chosen, policy, study.max_images, study.seed)
      run_targets = explained.run_targets(targets[indices], indices)
      views.append(View(policy, chosen, indices, run_targets, context))
  return views


def _settings(study) -> dict[str, str]:
  """Fingerprints of what changes each metric's scores."""
  s = study.scores
  return {
    "confidence": "-",
    "road": fingerprint([list(s.road_percentiles), s.road_noise, study.seed]),
    "deletion_insertion": fingerprint([s.deletion_steps]),
    "localization": fingerprint([s.iou_threshold]),
  }


def map_options(study, images: str = "") -> tuple[explain.cam.Options, str]:
  """The CAM options and the fingerprint of those that change a map (and of
  `images`, the maps' image source when it is not the test split)."""
  options = explain.cam.Options.from_kwargs(dict(study.cam))
  changing = {
    k: v for k, v in dataclasses.asdict(options).items() if k != "chunk_size"
  }
  if images:
    changing["images"] = images
  return options, fingerprint(changing)


def compute_maps(
  cache, restored, batches, layers, methods, options, options_id, mesh, seed,
  transform=None,
) -> int:  # fmt: skip
  """Explains every batch's missing (layer, method) cells; returns how many
  maps were computed.

  Args:
    transform: (images (B, H, W, C), ids (B,)) -> images: what is explained
      instead of the images themselves (a corruption), or None.
  """
  run_id = restored.run.fingerprint
  computed = 0
  for batch in batches.batches:
    missing = None
    if is_main():
      missing = np.array(
        [
          [bool(cache.missing_maps(run_id, layer, m, options_id, batch))
           for m in methods]
          for layer in layers
        ]
      )  # fmt: skip
    missing = broadcast(missing, np.zeros((len(layers), len(methods)), bool))
    if not missing.any():
      continue
    want_layers = tuple(np.array(layers)[missing.any(1)])
    want_methods = tuple(np.array(methods)[missing.any(0)])
    images, _ = batches.arrays(batch, local_rows(batches.size))
    images = xaijax.data.to_global({"image": images}, mesh)["image"]
    if transform is not None:
      images = transform(images, batches.ids(batch))
    key = jax.random.fold_in(
      jax.random.key(seed), zlib.crc32(batch[0][0].encode())
    )
    out = explain.cams_by_layer(
      restored.module,
      restored.variables,
      images,
      methods=want_methods,
      layers=want_layers,
      targets=batches.targets(batch),
      key=key,
      **dataclasses.asdict(options),
    )
    maps = multihost_utils.process_allgather(out.maps, tiled=True)
    if is_main():
      for layer in want_layers:
        for m in want_methods:
          todo = cache.missing_maps(run_id, layer, m, options_id, batch)
          rows = [i for i, cell in enumerate(batch) if cell in todo]
          cells = [batch[i] for i in rows]
          cache.put_maps(
            run_id,
            layer,
            m,
            options_id,
            cells,
            np.asarray(maps[layer][m])[rows],
          )
          computed += len(rows)
  return computed


def compute_scores(
  cache, restored, batches, layers, methods, options_id, metrics,
  score_options, settings, seed, transform=None,
) -> int:  # fmt: skip
  """Scores every batch's cached maps for the missing metric cells.

  Args:
    metrics: names of `xaijax.evaluate.scoring.METRICS`.
    score_options: a `ScoreOptions`.
    settings: {metric: fingerprint of what changes its scores}.
    seed: the ROAD noise's seed (keys per image).
    transform: as `compute_maps`: the maps are scored on the transformed
      images (against the untransformed masks).
  """
  run_id = restored.run.fingerprint
  computed = 0
  for metric in metrics:
    for batch in batches.batches:
      missing = None
      if is_main():
        missing = np.array(
          [
            [bool(cache.missing_scores(run_id, layer, m, options_id, metric,
                                       settings[metric], batch))
             for m in methods]
            for layer in layers
          ]
        )  # fmt: skip
      missing = broadcast(missing, np.zeros((len(layers), len(methods)), bool))
      if not missing.any():
        continue
      images, masks = batches.arrays(batch)
      if metric in scoring.NEEDS_MASKS and masks is None:
        continue  # this run's dataset has no lesion masks
      if transform is not None:
        images = transform(images, batches.ids(batch))
      wanted = [
        (layer, m)
        for i, layer in enumerate(layers)
        for j, m in enumerate(methods)
        if missing[i, j]
      ]
      pad = batches.size - len(batch)
      like = {
        f"{layer}{_SEP}{m}": np.zeros(images.shape[:3], np.float32)
        for layer, m in wanted
      }
      maps = None
      if is_main():
        maps = {
          f"{layer}{_SEP}{m}": padded(
            cache.get_maps(run_id, layer, m, options_id, batch), pad
          )
          for layer, m in wanted
        }
      scores = evaluate.score_maps(
        restored.module,
        restored.variables,
        images,
        broadcast(maps, like),
        metrics=(metric,),
        targets=batches.targets(batch),
        masks=masks,
        key=image_keys(seed, batches.ids(batch)),
        options=score_options,
      )
      if is_main():
        columns = scoring.columns(metric, score_options)
        for layer, m in wanted:
          todo = cache.missing_scores(
            run_id, layer, m, options_id, metric, settings[metric], batch
          )
          rows = [i for i, cell in enumerate(batch) if cell in todo]
          values = scores[f"{layer}{_SEP}{m}"]
          cache.put_scores(
            run_id, layer, m, options_id, metric, settings[metric],
            [batch[i] for i in rows],
            {c: np.asarray(values[c])[rows] for c in columns},
          )  # fmt: skip
          computed += len(rows)
  return computed


def _records(cache, explained, views, layers, methods, options_id, study,
             settings) -> list[dict]:  # fmt: skip
  """One record per (layer, view, method, image) with every cached score."""
  run = explained.restored.run
  names = explained.class_names
  ids = explained.ids
  scores = {
    (layer, m, metric): cache.get_scores(
      run.fingerprint, layer, m, options_id, metric, settings[metric]
    )
    for layer in layers
    for m in methods
    for metric in study.metrics
  }
  records = []
  for layer in layers:
    for view in views:
      for m in methods:
        for index, target in zip(view.indices, view.targets, strict=True):
          image, label = ids[index], int(explained.labels[index])
          predicted = int(explained.predictions[index])
          record = {
            "run": run.name,
            "model": run.model,
            "dataset": run.config.data.name,
            "layer": layer,
            "target_policy": view.policy,
            "selection": view.selection,
            "method": m,
            "id": image,
            "class": names[label],
            "explained": run.class_names[int(target)],
            "predicted": names[predicted],
            "correct": float(label == predicted),
          }
          for metric in study.metrics:
            record |= scores[layer, m, metric].get((image, int(target)), {})
          records.append(record)
  return records


def _slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-80:]


def _figures(out_dir, cache, explained, views, layers, methods, options_id,
             study) -> dict:  # fmt: skip
  """Overlay grids per (layer, view, class) and one overlay per (method,
  image) (drawn once: adding a method draws only its own). Returns
  {(layer, policy, selection): {'grids': [...], 'maps': {(method, image,
  target): path}}} with paths relative to out_dir."""
  run = explained.restored.run
  names = explained.class_names
  ids = explained.ids
  mean, std = run.config.data.mean, run.config.data.std
  # Another image set than the test split draws into its own folders.
  where = _slug(explained.images.name) if explained.options_id else ""
  drawn = {}
  for layer in layers:
    for view in views:
      folder = pathlib.Path(
        "figures", _slug(run.name), where, _slug(layer),
        f"{view.policy}__{_slug(view.selection)}",
      )  # fmt: skip
      cells = [
        (ids[i], int(t))
        for i, t in zip(view.indices, view.targets, strict=True)
      ]
      maps = {
        m: cache.get_maps(run.fingerprint, layer, m, options_id, cells)
        for m in methods
      }
      split = explained.images.split
      arrays = [split.example(int(i)) for i in view.indices]
      entry = {"grids": [], "maps": {}}
      for c, name in enumerate(names):
        rows = [
          k for k, i in enumerate(view.indices)
          if int(explained.labels[i]) == c
        ][: study.figure_images]  # fmt: skip
        if not rows:
          continue
        path = folder / f"{_slug(name)}.png"
        masks = [arrays[k].get("lesion_mask") for k in rows]
        visualize.save_grid(
          out_dir / path,
          np.stack([arrays[k]["image"] for k in rows]),
          {m: maps[m][rows] for m in methods},
          masks=None if masks[0] is None else np.stack(masks),
          row_titles=[
            f"{ids[view.indices[k]][-18:]}\n→ {run.class_names[cells[k][1]]}"
            for k in rows
          ],
          mean=mean,
          std=std,
        )
        entry["grids"].append((name, str(path)))
      for m in methods:
        for k, (image, target) in enumerate(cells):
          path = pathlib.Path(
            "maps", _slug(run.name), where, _slug(layer), m,
            f"{_slug(image)}_t{target}.png",
          )  # fmt: skip
          if not (out_dir / path).exists():
            save_overlay(
              out_dir / path, arrays[k]["image"], maps[m][k], mean, std
            )
          entry["maps"][m, image, target] = str(path)
      drawn[layer, view.policy, view.selection] = entry
  return drawn


def save_overlay(path, image, cam, mean, std) -> None:
  """One map over its image as a small PNG."""
  from matplotlib.figure import Figure

  figure = Figure(figsize=(2, 2))
  axis = figure.add_axes((0, 0, 1, 1))
  axis.imshow(visualize.overlay(image, cam, mean=mean, std=std))
  axis.set_axis_off()
  os.makedirs(os.path.dirname(path), exist_ok=True)
  figure.savefig(path, dpi=64)


def view_cells(explained: Explained, views) -> list:
  """The (image id, run class) cells of `views`, without repeats."""
  ids = explained.ids
  return cells_in_order(
    [ids[i] for v in views for i in v.indices],
    [t for v in views for t in v.targets],
  )


def run(
  name: str,
  study,
  members: list[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Computes the study's missing cells and writes its tables and report.

  Args:
    name: the study's name.
    study: its config (`cams_config`).
    members: the runs it explains.
    out_dir: its folder (`<workdir>/studies/<name>`).
    context: the launch's mesh, cache (process 0) and data module.

  Returns:
    {'report': path, 'maps': computed, 'scores': computed, 'seconds': s}.
  """
  start = time.perf_counter()
  cache, mesh = context.cache, context.mesh
  explained_runs = [
    explained_images(context, context.restore(r), study.images,
                     study.batch_size)
    for r in members
  ]  # fmt: skip
  settings = _settings(study)
  methods = tuple(study.methods)
  score_options = scoring.ScoreOptions(**dict(study.scores))
  all_records, sections = [], []
  computed_maps = computed_scores = 0
  for explained in explained_runs:
    restored = explained.restored
    options, options_id = map_options(study, explained.options_id)
    size = restored.run.config.data.image_size
    layers = expand_layers(restored.module, size, study.layers)
    views = _views(study, explained)
    cells = view_cells(explained, views)
    if not cells:
      continue
    batches = Batches(explained.images.split, cells, study.batch_size)
    console.say(
      f"Study {name}, run {restored.run.name}: {len(cells)} (image, class) "
      f"cells x {len(layers)} layer(s) x {len(methods)} method(s)."
    )
    computed_maps += compute_maps(
      cache, restored, batches, layers, methods, options, options_id, mesh,
      study.seed,
    )  # fmt: skip
    computed_scores += compute_scores(
      cache, restored, batches, layers, methods, options_id, study.metrics,
      score_options, settings, study.seed,
    )  # fmt: skip
    if not is_main():
      continue
    records = _records(
      cache, explained, views, layers, methods, options_id, study, settings
    )
    all_records += records
    figures = _figures(
      out_dir, cache, explained, views, layers, methods, options_id, study
    )
    coincide = {
      (layer, view.policy, view.selection): _coinciding(
        cache, explained, view, layer, methods, options_id
      )
      for layer in layers
      for view in views
    }
    sections.append((restored, layers, views, figures, coincide))
  seconds = time.perf_counter() - start
  report = None
  if is_main():
    report = study_report.write_cams_study(
      out_dir, name, study, all_records, sections, seconds=seconds,
      computed=(computed_maps, computed_scores),
    )  # fmt: skip
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


# Maps that differ by less than this are the same map: both are min-max
# scaled to [0, 1] in float32, so methods that coincide mathematically (e.g.
# GradCAM and XGradCAM at a layer followed by global average pooling) differ
# by float32 rounding of their weights, a few ulps of 1 per step, and maps of
# different methods differ by far more.
COINCIDE_ATOL = 1e-4


def _coinciding(cache, explained, view, layer, methods, options_id) -> dict:
  """{method: the earlier method whose maps it equals on every image}."""
  ids = explained.ids
  cells = [
    (ids[i], int(t)) for i, t in zip(view.indices, view.targets, strict=True)
  ]
  if not cells:
    return {}
  maps = {
    m: cache.get_maps(
      explained.restored.run.fingerprint, layer, m, options_id, cells
    )
    for m in methods
  }
  same = {}
  for j, b in enumerate(methods):
    for a in methods[:j]:
      if a not in same and np.abs(maps[a] - maps[b]).max() <= COINCIDE_ATOL:
        same[b] = a
        break
  return same
