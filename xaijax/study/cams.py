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
from xaijax.study import selection
from xaijax.study.cache import cells_in_order, fingerprint
from xaijax.study.config import expand_layers
from xaijax.study.runs import Context, RestoredRun, TrainedRun

_SEP = "\t"  # joins layer and method in score_maps' keys


def _is_main() -> bool:
  return jax.process_index() == 0


def _broadcast(value, like):
  """Process 0's `value` on every process (identity with one process); the
  other processes pass `like`, a pytree of the same structure and shapes."""
  if jax.process_count() == 1:
    return value
  out = multihost_utils.broadcast_one_to_all(value if _is_main() else like)
  return jax.tree.map(np.asarray, out)


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


def _views(study, restored: RestoredRun) -> list[View]:
  names = restored.run.class_names
  views = []
  for policy in study.targets:
    targets = selection.targets(
      policy, restored.labels, restored.predictions, names
    )
    for chosen in study.selections:
      indices = selection.select(
        chosen, restored.labels, restored.predictions, names,
        max_images=study.max_images, seed=study.seed,
      )  # fmt: skip
      context = selection.describe(chosen, policy, study.max_images, study.seed)
      views.append(View(policy, chosen, indices, targets[indices], context))
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


def map_options(study) -> tuple[explain.cam.Options, str]:
  """The CAM options and the fingerprint of those that change a map."""
  options = explain.cam.Options.from_kwargs(dict(study.cam))
  changing = {
    k: v for k, v in dataclasses.asdict(options).items() if k != "chunk_size"
  }
  return options, fingerprint(changing)


class _Batches:
  """The run's cells in fixed batches, loaded image by image on demand."""

  def __init__(self, restored: RestoredRun, cells, batch_size: int):
    self.restored = restored
    self.size = batch_size
    ids = list(map(str, restored.test.ids))
    self.index = {image: i for i, image in enumerate(ids)}
    self.batches = [
      cells[lo : lo + batch_size] for lo in range(0, len(cells), batch_size)
    ]

  def padded(self, batch) -> list:
    """The batch padded to the batch size by repeating its last cell (one
    shape, one compilation)."""
    return batch + [batch[-1]] * (self.size - len(batch))

  def targets(self, batch) -> np.ndarray:
    """(B,) int32 explained classes of the padded batch."""
    return np.array([t for _, t in self.padded(batch)], np.int32)

  def arrays(self, batch, rows: slice = slice(None)):
    """Images (b, H, W, 3) and masks (b, H, W) or None of the padded batch's
    `rows` (this process's rows of a sharded batch)."""
    examples = [
      self.restored.test.example(self.index[i])
      for i, _ in self.padded(batch)[rows]
    ]
    images = np.stack([e["image"] for e in examples]).astype(np.float32)
    masks = [e.get("lesion_mask") for e in examples]
    masks = None if masks[0] is None else np.stack(masks).astype(np.float32)
    return images, masks


def _padded(rows: np.ndarray, pad: int) -> np.ndarray:
  """rows (n, ...) followed by `pad` copies of the last one."""
  return np.concatenate([rows, np.repeat(rows[-1:], pad, axis=0)])


def _local_rows(size: int) -> slice:
  per = size // jax.process_count()
  return slice(jax.process_index() * per, (jax.process_index() + 1) * per)


def _image_keys(seed: int, batch) -> jax.Array:
  """(B,) per-image keys: an image's random draws do not depend on its
  batch."""
  base = jax.random.key(seed)
  return jax.vmap(lambda i: jax.random.fold_in(base, i))(
    np.array([zlib.crc32(i.encode()) for i, _ in batch], np.uint32)
  )


def _compute_maps(
  cache, restored, batches, layers, methods, options, options_id, mesh, seed
) -> int:
  """Explains every batch's missing (layer, method) cells; returns how many
  maps were computed."""
  run_id = restored.run.fingerprint
  computed = 0
  for batch in batches.batches:
    missing = None
    if _is_main():
      missing = np.array(
        [
          [bool(cache.missing_maps(run_id, layer, m, options_id, batch))
           for m in methods]
          for layer in layers
        ]
      )  # fmt: skip
    missing = _broadcast(missing, np.zeros((len(layers), len(methods)), bool))
    if not missing.any():
      continue
    want_layers = tuple(np.array(layers)[missing.any(1)])
    want_methods = tuple(np.array(methods)[missing.any(0)])
    images, _ = batches.arrays(batch, _local_rows(batches.size))
    images = xaijax.data.to_global({"image": images}, mesh)["image"]
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
    if _is_main():
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


def _compute_scores(
  cache, restored, batches, layers, methods, options_id, study, settings
) -> int:
  """Scores every batch's cached maps for the missing metric cells."""
  run_id = restored.run.fingerprint
  score_options = scoring.ScoreOptions(**dict(study.scores))
  computed = 0
  for metric in study.metrics:
    for batch in batches.batches:
      missing = None
      if _is_main():
        missing = np.array(
          [
            [bool(cache.missing_scores(run_id, layer, m, options_id, metric,
                                       settings[metric], batch))
             for m in methods]
            for layer in layers
          ]
        )  # fmt: skip
      missing = _broadcast(missing, np.zeros((len(layers), len(methods)), bool))
      if not missing.any():
        continue
      images, masks = batches.arrays(batch)
      if metric in scoring.NEEDS_MASKS and masks is None:
        continue  # this run's dataset has no lesion masks
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
      if _is_main():
        maps = {
          f"{layer}{_SEP}{m}": _padded(
            cache.get_maps(run_id, layer, m, options_id, batch), pad
          )
          for layer, m in wanted
        }
      scores = evaluate.score_maps(
        restored.module,
        restored.variables,
        images,
        _broadcast(maps, like),
        metrics=(metric,),
        targets=batches.targets(batch),
        masks=masks,
        key=_image_keys(study.seed, batches.padded(batch)),
        options=score_options,
      )
      if _is_main():
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


def _records(cache, restored, views, layers, methods, options_id, study,
             settings) -> list[dict]:  # fmt: skip
  """One record per (layer, view, method, image) with every cached score."""
  run = restored.run
  names = run.class_names
  ids = list(map(str, restored.test.ids))
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
          image, label = ids[index], int(restored.labels[index])
          predicted = int(restored.predictions[index])
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
            "explained": names[int(target)],
            "predicted": names[predicted],
            "correct": float(label == predicted),
          }
          for metric in study.metrics:
            record |= scores[layer, m, metric].get((image, int(target)), {})
          records.append(record)
  return records


def _slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-80:]


def _figures(out_dir, cache, restored, views, layers, methods, options_id,
             study, batches) -> dict:  # fmt: skip
  """Overlay grids per (layer, view, class) and one overlay per (method,
  image) (drawn once: adding a method draws only its own). Returns
  {(layer, policy, selection): {'grids': [...], 'maps': {(method, image,
  target): path}}} with paths relative to out_dir."""
  run = restored.run
  names = run.class_names
  ids = list(map(str, restored.test.ids))
  mean, std = run.config.data.mean, run.config.data.std
  drawn = {}
  for layer in layers:
    for view in views:
      folder = pathlib.Path(
        "figures", _slug(run.name), _slug(layer),
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
      arrays = [batches.restored.test.example(int(i)) for i in view.indices]
      entry = {"grids": [], "maps": {}}
      for c, name in enumerate(names):
        rows = [
          k for k, i in enumerate(view.indices)
          if int(restored.labels[i]) == c
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
            f"{ids[view.indices[k]][-18:]}\n→ {names[cells[k][1]]}"
            for k in rows
          ],
          mean=mean,
          std=std,
        )
        entry["grids"].append((name, str(path)))
      for m in methods:
        for k, (image, target) in enumerate(cells):
          path = pathlib.Path(
            "maps", _slug(run.name), _slug(layer), m,
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
  restored_runs = [context.restore(r) for r in members]
  options, options_id = map_options(study)
  settings = _settings(study)
  methods = tuple(study.methods)
  all_records, sections = [], []
  computed_maps = computed_scores = 0
  for restored in restored_runs:
    size = restored.run.config.data.image_size
    layers = expand_layers(restored.module, size, study.layers)
    views = _views(study, restored)
    ids = list(map(str, restored.test.ids))
    cells = cells_in_order(
      [ids[i] for v in views for i in v.indices],
      [t for v in views for t in v.targets],
    )
    if not cells:
      continue
    batches = _Batches(restored, cells, study.batch_size)
    console.say(
      f"Study {name}, run {restored.run.name}: {len(cells)} (image, class) "
      f"cells x {len(layers)} layer(s) x {len(methods)} method(s)."
    )
    computed_maps += _compute_maps(
      cache, restored, batches, layers, methods, options, options_id, mesh,
      study.seed,
    )  # fmt: skip
    computed_scores += _compute_scores(
      cache, restored, batches, layers, methods, options_id, study, settings
    )
    if not _is_main():
      continue
    records = _records(
      cache, restored, views, layers, methods, options_id, study, settings
    )
    all_records += records
    figures = _figures(
      out_dir, cache, restored, views, layers, methods, options_id, study,
      batches,
    )  # fmt: skip
    coincide = {
      (layer, view.policy, view.selection): _coinciding(
        cache, restored, view, layer, methods, options_id
      )
      for layer in layers
      for view in views
    }
    sections.append((restored, layers, views, figures, coincide))
  seconds = time.perf_counter() - start
  report = None
  if _is_main():
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


def _coinciding(cache, restored, view, layer, methods, options_id) -> dict:
  """{method: the earlier method whose maps it equals on every image}."""
  ids = list(map(str, restored.test.ids))
  cells = [
    (ids[i], int(t)) for i, t in zip(view.indices, view.targets, strict=True)
  ]
  if not cells:
    return {}
  maps = {
    m: cache.get_maps(restored.run.fingerprint, layer, m, options_id, cells)
    for m in methods
  }
  same = {}
  for j, b in enumerate(methods):
    for a in methods[:j]:
      if a not in same and np.abs(maps[a] - maps[b]).max() <= COINCIDE_ATOL:
        same[b] = a
        break
  return same
