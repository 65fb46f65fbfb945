# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The generalisation study kinds end to end on tiny trained runs.

Three tiny runs (VGG16 seeds 0 and 1, ResNet50 seed 0; 32 px, 4 steps) are
trained once on a class-folder set (melanoma, nevus, other) and studied
against a fake PH2 with lesion masks and byte copies of two training
images (`generalisation.py`). Each kind is checked in two steps: its
cached per-image outputs equal a direct forward pass of the restored model
(to float32 rounding), and its reported numbers equal the library
functions applied to those outputs; a rerun computes nothing.
"""

import pathlib
import types
import zlib

import generalisation
import jax
import numpy as np
import pytest
import scipy.special

from xaijax import data, evaluate, explain, study
from xaijax.data import corruptions
from xaijax.report import read_records
from xaijax.study import cams as cams_lib
from xaijax.study import outputs
from xaijax.study import runs as runs_lib
from xaijax.study.batches import image_keys
from xaijax.study.cache import Cache
from xaijax.train import sharding

# Logits of the same image computed in batches of different sizes differ by
# float32 reassociation in the convolutions: a few ulps of values of order
# 1 per layer, far below 1e-5 for these 4-step tiny models (whose logits
# stay below 10).
LOGIT_ATOL = 1e-5


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
  root = tmp_path_factory.mktemp("generalisation")
  train_root, ph2_root = generalisation.make_data(root / "data")
  runs_dir = root / "runs"
  config = generalisation.launch_config(runs_dir, train_root, ph2_root)
  found = runs_lib.resolve(config, str(root))  # trains the three runs
  return types.SimpleNamespace(
    runs=runs_dir,
    train=train_root,
    ph2=ph2_root,
    found=[r for group in found.values() for r in group],
    mesh=sharding.make_mesh(),
  )


def _launch(setup, **studies):
  return generalisation.launch_config(
    setup.runs, setup.train, setup.ph2, **studies
  )


def _context(setup, workdir: pathlib.Path, config) -> runs_lib.Context:
  return runs_lib.Context(
    workdir=workdir,
    mesh=setup.mesh,
    cache=Cache(str(workdir / study.CACHE)),
    external=dict(config.external),
  )


def _cached(context, restored, images, variant, shape):
  """Outputs the study cached; computing any is a failure."""

  def forward(x, ids):
    raise AssertionError(f"{variant} of {images.name} was not cached")

  values, computed = outputs.outputs(
    context, restored, images, variant, forward, shape=shape, batch_size=4
  )
  assert computed == 0
  return values


def _direct_logits(restored, images) -> np.ndarray:
  """Eval logits of every image of the set in one batch."""
  x = np.stack(
    [images.split.example(i)["image"] for i in range(len(images.ids))]
  )
  return np.asarray(restored.module.apply(restored.variables, x, train=False))


def _rows(path, **match):
  return [
    r
    for r in read_records(str(path))
    if all(r[k] == v for k, v in match.items())
  ]


def test_external_validation(tmp_path, setup):
  config = _launch(
    setup,
    ext=study.external_config(sets=("external:ph2",), bootstrap_resamples=50),
  )
  out = study.run(config, str(tmp_path))["studies"]["ext"]
  folder = tmp_path / "studies/ext"
  text = (folder / "runs.csv").read_text()
  context = _context(setup, tmp_path, config)
  expected = 0
  for trained in setup.found:
    restored = context.restore(trained)
    k = len(trained.class_names)
    test = outputs.image_set(context, restored, "test")
    ph2 = outputs.image_set(context, restored, "external:ph2")
    # The two byte copies of training images are dropped, nothing else.
    assert ph2.removed["exact"] == generalisation.COPIES
    assert len(ph2.ids) == 3 * generalisation.PH2_PER_CLASS
    # The mapped test set reuses the test split's cached logits.
    expected += len(test.ids) + len(ph2.ids)
    for images in (test, outputs.mapped_test(restored, ph2), ph2):
      logits = _cached(context, restored, images, "clean", (k,))
      if images.source != "test":
        np.testing.assert_allclose(
          logits, _direct_logits(restored, images), atol=LOGIT_ATOL
        )
      probs = images.probabilities(outputs.probabilities(logits))
      direct = evaluate.classification_metrics(images.labels, probs)
      (row,) = _rows(folder / "runs.csv", run=trained.name, set=images.name)
      for metric in ("accuracy", "balanced_accuracy", "roc_auc"):
        np.testing.assert_equal(row[metric], direct[metric])
        if not np.isnan(row[f"{metric}_low"]):
          assert row[f"{metric}_low"] <= direct[metric] <= row[f"{metric}_high"]
    # The test split's logits are the run's own test predictions (written
    # with 6 significant digits).
    _, _, csv_probs = trained.predictions()
    probs = outputs.probabilities(
      _cached(context, restored, test, "clean", (k,))
    )
    np.testing.assert_allclose(probs, csv_probs, atol=1e-5)
    # The external accuracy is the mapped probabilities' accuracy.
    mapped = np.asarray(
      data.map_probabilities(
        scipy.special.softmax(_direct_logits(restored, ph2), -1), ph2.label_map
      )
    )
    top2 = np.sort(mapped, -1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0]).min() > 1e-4  # no argmax near a tie
    (row,) = _rows(folder / "runs.csv", run=trained.name, set="external:ph2")
    assert row["accuracy"] == (mapped.argmax(-1) == ph2.labels).mean()
  assert out["computed"] == expected
  report = (folder / "report.md").read_text()
  assert "In-distribution vs external" in report
  assert "vgg16 · ph2 | in-distribution − external" in report
  assert "resnet50 − vgg16" in report  # models on the same images
  again = study.run(config, str(tmp_path))["studies"]["ext"]
  assert again["computed"] == 0
  assert (folder / "runs.csv").read_text() == text


def test_calibration(tmp_path, setup):
  config = _launch(
    setup, cal=study.calibration_config(sets=("test", "external:ph2"))
  )
  out = study.run(config, str(tmp_path))["studies"]["cal"]
  folder = tmp_path / "studies/cal"
  context = _context(setup, tmp_path, config)
  for trained in setup.found:
    restored = context.restore(trained)
    k = len(trained.class_names)
    val = outputs.image_set(context, restored, "val")
    val_logits = _cached(context, restored, val, "clean", (k,))
    np.testing.assert_allclose(
      val_logits, _direct_logits(restored, val), atol=LOGIT_ATOL
    )
    temperature = evaluate.fit_temperature(val_logits, val.labels)
    assert out["temperatures"][trained.name] == temperature
    test = outputs.image_set(context, restored, "test")
    logits = _cached(context, restored, test, "clean", (k,))
    rows = _rows(folder / "runs.csv", run=trained.name, set="test")
    before, after = sorted(rows, key=lambda r: r["scaling"] != "before")
    np.testing.assert_equal(
      before["ece"],
      evaluate.expected_calibration_error(
        outputs.probabilities(logits), test.labels
      ),
    )
    scaled = outputs.probabilities(
      evaluate.apply_temperature(logits, temperature)
    )
    np.testing.assert_equal(
      after["nll"], evaluate.negative_log_likelihood(scaled, test.labels)
    )
    # The run's own test probabilities (6 significant digits) give the same
    # ECE: their confidences move by < 1e-5 and none sits within that of a
    # bin edge, so each image keeps its bin and the ECE moves by < 1e-5.
    _, labels, csv_probs = trained.predictions()
    conf = csv_probs.max(-1)
    edges = np.linspace(0, 1, 16)
    assert np.abs(conf[:, None] - edges).min() > 1e-5
    np.testing.assert_allclose(
      before["ece"],
      evaluate.expected_calibration_error(csv_probs, labels),
      atol=1e-5,
    )
    for set_name in ("test", "external_ph2"):
      for scaling in ("before", "after"):
        slug = trained.name.replace("/", "_")
        assert (folder / f"figures/{slug}/{set_name}_{scaling}.png").exists()
  assert "before − after" in (folder / "report.md").read_text()
  assert study.run(config, str(tmp_path))["studies"]["cal"]["computed"] == 0


def test_uncertainty(tmp_path, setup):
  config = _launch(
    setup,
    unc=study.uncertainty_config(
      runs=("vgg",), sets=("test", "external:ph2"), mc_samples=3
    ),
  )
  out = study.run(config, str(tmp_path))["studies"]["unc"]
  folder = tmp_path / "studies/unc"
  context = _context(setup, tmp_path, config)
  members = [r for r in setup.found if r.entry == "vgg"]
  restored = [context.restore(r) for r in members]
  ph2 = outputs.image_set(context, restored[0], "external:ph2")
  k = len(members[0].class_names)
  singles = np.stack(
    [
      ph2.probabilities(
        outputs.probabilities(_cached(context, r, ph2, "clean", (k,)))
      )
      for r in restored
    ]
  )
  records = _rows(folder / "per_image.csv", set="external:ph2")
  ensemble = [r for r in records if r["predictor"] == "ensemble"]
  assert [r["id"] for r in ensemble] == ph2.ids
  np.testing.assert_allclose(
    [r["mutual_information"] for r in ensemble],
    evaluate.mutual_information(singles),
    rtol=1e-12,
  )
  mean = singles.mean(0)
  correct = (mean.argmax(-1) == ph2.labels).astype(float)
  (row,) = _rows(folder / "runs.csv", set="external:ph2", predictor="ensemble")
  assert row["members"] == 2
  np.testing.assert_equal(row["aurc"], evaluate.aurc(mean.max(-1), correct))
  # One model alone has no epistemic part.
  single = [r for r in records if r["predictor"] == "single"]
  assert max(r["mutual_information"] for r in single) == 0
  # MC dropout: 3 passes per image, each image from its own key.
  mc = _cached(context, restored[0], ph2, "mc_dropout:3:0", (3, k))
  x = ph2.split.example(5)["image"][None]
  key = image_keys(0, [ph2.ids[5]])[0]
  direct = evaluate.mc_dropout_probs(
    restored[0].module, restored[0].variables, x, key, num_samples=3
  )
  np.testing.assert_allclose(
    outputs.probabilities(mc[5]), np.asarray(direct)[:, 0], atol=LOGIT_ATOL
  )
  assert "single − ensemble" in (folder / "report.md").read_text()
  assert list((folder / "figures").glob("*.png"))
  assert out["computed"] > 0
  assert study.run(config, str(tmp_path))["studies"]["unc"]["computed"] == 0


def test_corruptions_are_drawn_per_image(tmp_path, setup):
  def launch(batch_size):
    return _launch(
      setup,
      cor=study.corruptions_config(
        runs=("resnet",),
        corruptions=("gaussian_noise", "gaussian_blur"),
        severities=(2, 5),
        batch_size=batch_size,
      ),
    )

  results = {}
  for batch_size in (4, 6):
    workdir = tmp_path / f"b{batch_size}"
    config = launch(batch_size)
    study.run(config, str(workdir))
    context = _context(setup, workdir, config)
    (trained,) = [r for r in setup.found if r.entry == "resnet"]
    restored = context.restore(trained)
    test = outputs.image_set(context, restored, "test")
    variant = outputs.corrupt_variant("gaussian_noise", 5, 0)
    results[batch_size] = _cached(context, restored, test, variant, (3,))
  # The same draws whatever the batch: each image has its own key.
  np.testing.assert_allclose(results[4], results[6], atol=LOGIT_ATOL)
  cfg = trained.config.data
  x = test.split.example(3)["image"][None]
  noisy = corruptions.to_normalized(
    corruptions.corrupt(
      corruptions.to_unit(x, cfg.mean, cfg.std),
      "gaussian_noise",
      5,
      image_keys(0, [test.ids[3]]),
    ),
    cfg.mean,
    cfg.std,
  )
  direct = restored.module.apply(restored.variables, noisy, train=False)
  np.testing.assert_allclose(results[4][3], direct[0], atol=LOGIT_ATOL)
  folder = tmp_path / "b4/studies/cor"
  rows = _rows(folder / "runs.csv", corruption="gaussian_noise", severity=5)
  probs = outputs.probabilities(results[4])
  np.testing.assert_equal(
    rows[0]["accuracy"], (probs.argmax(-1) == test.labels).mean()
  )
  (clean,) = _rows(folder / "runs.csv", corruption="none")
  assert clean["severity"] == 0
  assert (folder / "figures/resnet50__test_accuracy.png").exists()
  config = launch(4)
  again = study.run(config, str(tmp_path / "b4"))["studies"]["cor"]
  assert again["computed"] == 0


def test_map_robustness_on_external_images(tmp_path, setup):
  methods = ("gradcam", "layercam")
  config = _launch(
    setup,
    rob=study.map_robustness_config(
      runs=("resnet",),
      images="external:ph2",
      methods=methods,
      layers=("layer3",),
      corruptions=("gaussian_blur", "rotation"),
      severities=(3,),
      metrics=("confidence", "localization", "max_sensitivity"),
      sensitivity={"num_samples": 2, "radius": 0.2, "std": 0.1},
      max_images=8,
      batch_size=8,
    ),
  )
  out = study.run(config, str(tmp_path))["studies"]["rob"]
  # 8 cells x 2 methods x (clean + 2 corruptions).
  assert out["maps"] == 8 * 2 * 3
  records = read_records(str(tmp_path / "studies/rob/per_image.csv"))
  context = _context(setup, tmp_path, config)
  (trained,) = [r for r in setup.found if r.entry == "resnet"]
  restored = context.restore(trained)
  explained = cams_lib.explained_images(context, restored, "external:ph2", 8)
  names = trained.class_names
  assert {r["explained"] for r in records} <= {"melanoma", "nevus"}
  blurred = [
    r
    for r in records
    if r["corruption"] == "gaussian_blur" and r["method"] == "gradcam"
  ]
  clean = [
    r for r in records if r["corruption"] == "none" and r["method"] == "gradcam"
  ]
  index = {image: i for i, image in enumerate(explained.ids)}
  rows = [index[r["id"]] for r in clean]
  targets = np.array([names.index(r["explained"]) for r in clean])
  x = np.stack([explained.images.split.example(i)["image"] for i in rows])
  cfg = trained.config.data
  ids = [r["id"] for r in clean]
  corrupted = outputs.corrupt_images(x, ids, cfg, "gaussian_blur", 3, 0)

  def maps(images):
    return np.asarray(
      explain.cams(
        restored.module, restored.variables, images, methods="gradcam",
        layer="layer3", targets=targets,
      )["gradcam"]
    )  # fmt: skip

  similar = evaluate.map_similarity(maps(x), maps(corrupted))
  # Maps of batches of 8 and of this batch differ by float32 rounding of
  # min-max scaled values (~1e-6); SSIM and top-k IoU move by as little,
  # barring a top-k boundary tie, which these maps do not have.
  np.testing.assert_allclose(
    [r["ssim"] for r in blurred], similar["ssim"], atol=1e-4
  )
  np.testing.assert_allclose(
    [r["top_k_iou"] for r in blurred], similar["top_k_iou"], atol=1e-4
  )
  # Localisation on the real masks: clean and blurred, never rotated.
  assert all("pointing" in r and r["pointing"] in (0.0, 1.0) for r in clean)
  rotated = [r for r in records if r["corruption"] == "rotation"]
  assert all(r.get("pointing", "") == "" for r in rotated)
  # Max-Sensitivity of the one batch, as a direct call with its key.
  explain_fn = lambda images, key: explain.cams(  # noqa: E731
    restored.module, restored.variables, images, methods="gradcam",
    layer="layer3", targets=targets,
  )["gradcam"]  # fmt: skip
  assert len(clean) == 8  # one batch: the study's key is the first cell's
  key = jax.random.fold_in(jax.random.key(0), zlib.crc32(ids[0].encode()))
  direct = evaluate.max_sensitivity(explain_fn, x, key, num_samples=2)
  finite = np.isfinite(direct)
  np.testing.assert_allclose(
    np.array([r["max_sensitivity"] for r in clean])[finite],
    direct[finite],
    rtol=1e-5,
  )
  report = (tmp_path / "studies/rob/report.md").read_text()
  assert "Localisation against the lesion masks" in report
  assert "gradcam − layercam" in report
  again = study.run(config, str(tmp_path))["studies"]["rob"]
  assert (again["maps"], again["scores"]) == (0, 0)


def test_cams_explain_external_images(tmp_path, setup):
  config = _launch(
    setup,
    cams=study.cams_config(
      runs=("resnet",),
      images="external:ph2",
      methods=("gradcam",),
      layers=("layer3",),
      metrics=("confidence", "localization"),
      max_images=6,
      batch_size=6,
      figure_images=1,
    ),
  )
  out = study.run(config, str(tmp_path))["studies"]["cams"]
  assert out["maps"] == 6
  records = read_records(str(tmp_path / "studies/cams/per_image.csv"))
  assert {r["class"] for r in records} == {"melanoma", "nevus"}
  assert all(r["id"].startswith("images/") for r in records)
  # Each image's predicted group, explained as its most probable class.
  context = _context(setup, tmp_path, config)
  (trained,) = [r for r in setup.found if r.entry == "resnet"]
  restored = context.restore(trained)
  ph2 = outputs.image_set(context, restored, "external:ph2")
  probs = outputs.probabilities(_cached(context, restored, ph2, "clean", (3,)))
  for r in records:
    p = probs[ph2.ids.index(r["id"])]
    assert (
      ph2.class_names[ph2.probabilities(p[None]).argmax()] == r["predicted"]
    )
    # PH2's groups each hold one run class of the same name.
    assert r["explained"] == r["predicted"]
  assert all(r["pointing"] in (0.0, 1.0) for r in records)
  assert "of external:ph2" in (tmp_path / "studies/cams/report.md").read_text()
