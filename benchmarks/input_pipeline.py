# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Input pipeline throughput at 224 px, next to the ResNet50 train step.

  python benchmarks/input_pipeline.py            # ~1-2 minutes on 2 cores
  python benchmarks/input_pipeline.py --quick    # pipeline only, no ResNet50

Measures, on this machine:
* images/s of `data.train_batches` (decode, resize, augment, normalise,
  batch; `num_workers` threads, prefetch) at 224 px for the synthetic set,
  the real samples in ../shared/data where present (brain MRI 512 px
  grayscale JPEG, Kermany chest X-ray 224 px JPEG, ISIC skin 180 px JPEG),
  and generated large JPEGs (1024 px, like the original X-ray files);
* the peak RSS growth while streaming a generated folder of N and 4N large
  images (bounded memory: it must not grow with N);
* the ResNet50 train step (`xaijax.models.create('resnet50', 4)`, plain
  jitted SGD with momentum, same batch and size) in images/s, fed from a
  fixed batch, and fed live from the pipeline on the same cores.

Prints a table and writes benchmarks/results/input_pipeline.json.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from xaijax import data

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data")


def _cfg(name="synthetic", root="", **kw):
  c = data.default_config()
  c.name, c.root = name, root
  c.image_size = 224
  c.check_duplicates = False
  c.verify = "none"
  for k, v in kw.items():
    c[k] = v
  return c


def _rate(split, batch, steps, warmup=1, **kw):
  it = data.train_batches(split, batch_size=batch, **kw)
  for _ in range(warmup):
    next(it)
  t = time.perf_counter()
  for _ in range(steps):
    next(it)
  dt = time.perf_counter() - t
  it.close()
  return batch * steps / dt


def _rss() -> int:
  """This process's resident set size in bytes (Linux /proc)."""
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakRSS:
  """Samples this process's RSS every 5 ms in a thread; .peak in bytes."""

  def __enter__(self):
    self.base = _rss()
    self.peak = self.base
    self._stop = threading.Event()
    self._t = threading.Thread(target=self._run, daemon=True)
    self._t.start()
    return self

  def _run(self):
    while not self._stop.wait(0.005):
      self.peak = max(self.peak, _rss())

  def __exit__(self, *a):
    self._stop.set()
    self._t.join()


def _make_folder(root, n, size, seed=0):
  """n grayscale JPEGs of size x size in two class folders (like X-rays)."""
  rng = np.random.default_rng(seed)
  t = np.linspace(0, 1, size, dtype=np.float32)
  base = (np.outer(np.sin(t * 7), np.cos(t * 5)) * 60 + 120).astype(np.float32)
  for i in range(n):
    d = os.path.join(root, "train", ("NORMAL", "PNEUMONIA")[i % 2])
    os.makedirs(d, exist_ok=True)
    noise = rng.normal(0, 20, (size // 8, size // 8)).astype(np.float32)
    noise = np.asarray(Image.fromarray(noise, "F").resize((size, size)))
    img = np.clip(base + noise, 0, 255).astype(np.uint8)
    Image.fromarray(img).save(
      os.path.join(d, f"IM-{i:04d}-0001.jpeg"), quality=90
    )
  # a one-image test split so the layout is Kermany's
  for c in ("NORMAL", "PNEUMONIA"):
    d = os.path.join(root, "test", c)
    os.makedirs(d, exist_ok=True)
    shutil.copy(
      os.path.join(
        root, "train", c, os.listdir(os.path.join(root, "train", c))[0]
      ),
      d,
    )


def pipeline_rows(args, tmp):
  rows = []
  b, steps = args.batch, args.steps

  def add(label, split, **kw):
    for w in args.workers:
      split.config.num_workers = w
      r = _rate(split, b, steps, **kw)
      rows.append({"source": label, "workers": w, "images_per_s": r})
      print(f"  {label:<44} workers={w}  {r:7.1f} img/s", flush=True)

  ds = data.load(_cfg())
  add("synthetic lesions (generated at 224)", ds.train)
  real = [
    ("brain_mri", "brain_mri/kaggle_testing", "brain MRI (512 px gray JPEG)"),
    (
      "chest_xray",
      "chest_xray/kermany_224",
      "chest X-ray Kermany (224 px JPEG)",
    ),
    ("skin", "skin", "skin ISIC (180 px JPEG)"),
  ]
  for name, rel, label in real:
    root = os.path.join(SHARED, rel)
    if os.path.isdir(root):
      add(label, data.load(_cfg(name, root)).train)
    else:
      print(f"  {label}: skipped ({root} absent)")
  big = os.path.join(tmp, "big")
  _make_folder(big, args.big_n, 1024)
  ds = data.load(_cfg("chest_xray", big))
  add("generated 1024 px gray JPEG", ds.train)
  ds.config.jpeg_draft = False
  ds.train.source.draft = False
  add("generated 1024 px gray JPEG, no draft", ds.train)
  return rows


def memory_rows(args, tmp):
  rows = []
  for n in (args.mem_n, 4 * args.mem_n):
    root = os.path.join(tmp, f"mem{n}")
    _make_folder(root, n, 768, seed=n)
    ds = data.load(_cfg("chest_xray", root))
    it = data.train_batches(ds.train, batch_size=args.batch)
    next(it)  # threads and buffers up
    with _PeakRSS() as m:
      for _ in range(max(8, n // args.batch)):
        next(it)
    it.close()
    rows.append(
      {
        "images_in_dataset": n,
        "batches_streamed": max(8, n // args.batch),
        "peak_rss_growth_mb": (m.peak - m.base) / 2**20,
        "rss_mb": m.peak / 2**20,
      }
    )
    print(
      f"  {n:>5} images: RSS growth while streaming "
      f"{rows[-1]['peak_rss_growth_mb']:6.1f} MB (RSS {rows[-1]['rss_mb']:.0f} MB)",
      flush=True,
    )
    shutil.rmtree(root)
  return rows


def train_step_rows(args):
  import jax
  import jax.numpy as jnp
  import optax

  from xaijax import models

  b = args.batch
  model = models.create("resnet50", 4)
  x0 = jnp.zeros((b, 224, 224, 3), jnp.float32)
  variables = jax.jit(lambda k: model.init(k, x0, train=False))(
    jax.random.key(0)
  )
  params, stats = variables["params"], variables["batch_stats"]
  tx = optax.sgd(0.01, momentum=0.9)
  opt = tx.init(params)

  def loss_fn(p, s, x, y):
    logits, upd = model.apply(
      {"params": p, "batch_stats": s}, x, train=True, mutable=["batch_stats"]
    )
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, upd["batch_stats"]

  @jax.jit
  def step(p, s, o, x, y):
    (loss, s), g = jax.value_and_grad(loss_fn, has_aux=True)(p, s, x, y)
    u, o = tx.update(g, o, p)
    return optax.apply_updates(p, u), s, o, loss

  ds = data.load(_cfg())
  it = data.train_batches(ds.train, batch_size=b)
  batch = next(it)
  t = time.perf_counter()
  params, stats, opt, loss = step(
    params, stats, opt, batch["image"], batch["label"]
  )
  loss.block_until_ready()
  compile_s = time.perf_counter() - t
  print(f"  ResNet50 train step compiled in {compile_s:.1f} s", flush=True)

  t = time.perf_counter()
  for _ in range(args.train_steps):
    params, stats, opt, loss = step(
      params, stats, opt, batch["image"], batch["label"]
    )
  loss.block_until_ready()
  fixed = b * args.train_steps / (time.perf_counter() - t)
  print(
    f"  ResNet50 train step, fixed batch      {fixed:7.1f} img/s", flush=True
  )

  t = time.perf_counter()
  for _ in range(args.train_steps):
    batch = next(it)
    params, stats, opt, loss = step(
      params, stats, opt, batch["image"], batch["label"]
    )
  loss.block_until_ready()
  fed = b * args.train_steps / (time.perf_counter() - t)
  it.close()
  print(f"  ResNet50 train step, fed by pipeline  {fed:7.1f} img/s", flush=True)
  return {
    "model": "resnet50 (4 classes, full width)",
    "batch": b,
    "image_size": 224,
    "compile_s": compile_s,
    "steps": args.train_steps,
    "fixed_batch_images_per_s": fixed,
    "pipeline_fed_images_per_s": fed,
    "jax": jax.__version__,
    "backend": jax.default_backend(),
  }


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--batch", type=int, default=8)
  p.add_argument("--steps", type=int, default=8, help="timed pipeline batches")
  p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
  p.add_argument("--train-steps", type=int, default=2)
  p.add_argument("--big-n", type=int, default=64)
  p.add_argument("--mem-n", type=int, default=100)
  p.add_argument("--quick", action="store_true", help="skip ResNet50")
  p.add_argument(
    "--out", default=os.path.join(HERE, "results", "input_pipeline.json")
  )
  args = p.parse_args()

  machine = {
    "cpu": platform.processor() or platform.machine(),
    "cores": os.cpu_count(),
    "memory_gb": round(
      os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
    ),
    "python": platform.python_version(),
    "numpy": np.__version__,
    "pillow": Image.__version__,
  }
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          machine["cpu"] = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  print(f"machine: {machine}")
  print(f"pipeline at 224 px, batch {args.batch}, augmentation on:")
  t0 = time.time()
  with tempfile.TemporaryDirectory() as tmp:
    rows = pipeline_rows(args, tmp)
    print("bounded memory (generated 768 px JPEGs, streaming):")
    mem = memory_rows(args, tmp)
  train = None if args.quick else train_step_rows(args)

  print()
  print(f"{'source':<46}{'workers':>8}{'img/s':>10}{'x train step':>14}")
  for r in rows:
    ratio = (
      f"{r['images_per_s'] / train['fixed_batch_images_per_s']:13.1f}x"
      if train
      else f"{'-':>14}"
    )
    print(
      f"{r['source']:<46}{r['workers']:>8}{r['images_per_s']:>10.1f}{ratio}"
    )
  if train:
    print(
      f"{'ResNet50 train step (fixed batch)':<46}{'':>8}"
      f"{train['fixed_batch_images_per_s']:>10.1f}"
    )
    print(
      f"{'ResNet50 train step (fed by the pipeline)':<46}{'':>8}"
      f"{train['pipeline_fed_images_per_s']:>10.1f}"
    )
  result = {
    "machine": machine,
    "batch": args.batch,
    "image_size": 224,
    "pipeline": rows,
    "memory": mem,
    "train_step": train,
    "wall_s": time.time() - t0,
  }
  os.makedirs(os.path.dirname(args.out), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(result, f, indent=1)
  print(f"\nwrote {args.out} ({result['wall_s']:.0f} s)")


if __name__ == "__main__":
  main()
