"""Shared fixtures: the network guard, per-test working folders and a check that the checkout is left as found.

* Network: ``netguard`` blocks and logs every non-loopback resolve/connect/UDP send in this process and (through
  PYTHONPATH and PATH) in every subprocess a test starts, including ``curl``/``wget``/``git`` downloads. A test with
  any logged attempt fails, even if the code under test swallowed the error.
* Files: every test runs with its ``tmp_path`` as the working directory, and the session fails when the checkout
  holds files it did not hold before the tests ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
YAML_DIR = REPO / "models" / "yaml"
GUARD = REPO / "tests" / "netguard"
TASK_SUFFIXES = ("-seg-", "-pose-", "-obb-", "-cls-")
DENSE_SUFFIXES = ("-sem-", "-depth-")  # semantic segmentation and depth (ultralytics 8.4.1xx)
ALL_YAMLS = sorted(p.name for p in YAML_DIR.glob("*.yaml"))
PRESET_YAMLS = [n for n in ALL_YAMLS if n.endswith("-hornet-tiny.yaml")]  # the full HorNet-T at every scale
DETECT_YAMLS = [
    n for n in ALL_YAMLS if not any(t in n for t in TASK_SUFFIXES + DENSE_SUFFIXES) and n not in PRESET_YAMLS
]
TASK_YAMLS = [n for n in ALL_YAMLS if any(t in n for t in TASK_SUFFIXES)]  # segment, pose, OBB, classify
DENSE_YAMLS = [n for n in ALL_YAMLS if any(t in n for t in DENSE_SUFFIXES) and n not in PRESET_YAMLS]

sys.path.insert(0, str(GUARD))
import netguard  # noqa: E402

os.environ.setdefault("YOLO_OFFLINE", "1")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
netguard.install()

# paths a test run may create inside the checkout: caches of the tools themselves, and ultralytics' label caches of
# the bundled split, which the slow no-argument train.py test writes as any user's first run does (git-ignored)
TOOL_CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache", ".venv", ".egg-info")
LABEL_CACHES = "data/digitscenes/labels/"


def guarded_env(tmp: Path) -> dict:
    """Environment for a subprocess: the guard on PYTHONPATH/PATH, a fresh ultralytics config dir, no YOLO_OFFLINE."""
    env = dict(os.environ)
    env["YOLO_CONFIG_DIR"] = str(tmp / "ultralytics-config")  # a fresh config dir: no cached fonts or settings
    env.pop("YOLO_OFFLINE", None)  # the package itself must keep ultralytics offline
    return env


@pytest.fixture(autouse=True)
def network_guard(tmp_path_factory, monkeypatch):
    """Log network attempts of this test (and its subprocesses) to a file; fail the test if it is not empty."""
    log = tmp_path_factory.mktemp("netguard") / "attempts.log"
    monkeypatch.setenv("NETGUARD_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(GUARD), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("PATH", os.pathsep.join([str(GUARD / "bin"), os.environ.get("PATH", "")]))
    yield log
    if log.exists():
        pytest.fail(f"the test tried to reach the network:\n{log.read_text()}")


@pytest.fixture(autouse=True)
def work_in_tmp(tmp_path, monkeypatch):
    """Run each test in its own tmp folder, so that anything written to relative paths stays there."""
    monkeypatch.chdir(tmp_path)


def checkout_files() -> set[str] | None:
    """Untracked and ignored files in the checkout (None when it is not a git work tree)."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    lines = [line[3:] for line in out.splitlines() if not any(c in line for c in TOOL_CACHES)]
    return {p for p in lines if not (p.startswith(LABEL_CACHES) and p.endswith(".cache"))}


def pytest_sessionstart(session):
    session.config._checkout_before = checkout_files()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_checkout_before", None)
    after = checkout_files()
    if before is None or after is None:
        return
    new = sorted(after - before)
    if new:
        print(f"\nerror: the tests left files in the checkout: {new[:10]}", file=sys.stderr)
        session.exitstatus = 1


def scale_n_cfg(tmp_path: Path, name: str) -> Path:
    """A ready YAML copied as its scale-n name (``yolov8n-hornet.yaml``), or for ``"gf"`` the HorNet-GF backbone
    (GF in stages 3 and 4) with a HorFPN GF block in the neck."""
    if name == "gf":
        d = yaml.safe_load((YAML_DIR / "yolov8-hornet-backbone.yaml").read_text())
        d["backbone"][0][3] = [64, [2, 3, 18, 2], [2, 3, 4, 5], [2, 3], [[14, 8], [7, 4]]]
        d["head"] = [r if r[2] != "C2f" or r[0] != -1 or r[3][0] != 256 else [-1, 1, "HorFPN", [256, 2, True]]
                     for r in d["head"]]  # fmt: skip
        path = tmp_path / "yolov8n-gf-backbone.yaml"
        path.write_text(yaml.safe_dump(d))
        return path
    stem, rest = name.split("-", 1)
    path = tmp_path / f"{stem}n-{rest}"
    path.write_text((YAML_DIR / name).read_text())
    return path


def cli(script: str, args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``train.py``/``detect.py`` of this checkout in a subprocess (under the guard) and capture its output."""
    return subprocess.run(
        [sys.executable, str(REPO / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=guarded_env(cwd),
    )


def make_alive_(model: torch.nn.Module, seed: int = 0, batch_norm: bool = False) -> torch.nn.Module:
    """Bring a fresh model's HorNet parts to life for equality checks between two forms of it (ONNX, OpenVINO,
    TorchScript, fused, reloaded, DDP worker): layer scales ``gamma1``/``gamma2`` ~ N(0, 0.5) instead of 1e-6 (at
    1e-6 both HorBlock branches change the output by ~1e-6, far under any tolerance, so a dropped block passes),
    our modules' biases ~ N(0, 0.1), and the class-score biases of a detection head at 0 so that scores are O(1)
    (a fresh head's ~1e-4 scores pass any absolute check); a semantic head's class logits likewise, centred per
    class; a depth head's last conv gives log-depths of std 0.5 (a fresh one saturates its clamp: a constant map).
    ``batch_norm``: the BatchNorm statistics are set from one batch of random images first, so that every map is
    O(1) (a fresh deep model's maps shrink layer by layer to ~1e-4, under any absolute tolerance). Returns ``model``."""
    from ultralytics.nn.modules.head import Detect

    from yolo_hornet.ultralytics_glue import our_classes

    ours = tuple(set(our_classes().values()))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if not isinstance(m, ours):
                continue
            for name, p in m.named_parameters():
                if name.split(".")[-1] in {"gamma1", "gamma2"}:
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
                elif name.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        if batch_norm:
            norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a plain average over the batches seen: here, the one batch
            was_training = model.training
            model.train()
            model(torch.rand(2, 3, 64, 64, generator=gen))
            model.train(was_training)
            for m in norms:
                m.momentum = 0.03  # ultralytics' value
        class_convs = [
            [c for c in branch.modules() if isinstance(c, torch.nn.Conv2d)][-1]
            for m in model.modules()
            if isinstance(m, Detect)
            for head in ("cv3", "one2one_cv3")
            for branch in getattr(m, head, None) or []
        ]
        centre = set()
        target = dict.fromkeys(class_convs, 1.0)  # class logits of std ~1: scores spread over (0, 1), unsaturated
        for m in model.modules():  # a depth head's log-depth of std ~0.5, inside its clamp [-4, 5] (else constant)
            if type(m).__name__ == "Depth" and isinstance(getattr(m, "head", None), torch.nn.Sequential):
                target[m.head[-1]] = 0.5
            if type(m).__name__ == "SemanticSegment":  # class logits of std 1 around 0 per class: the class map
                target[m.classifier[-1]] = 1.0  # follows the features (not the same offset-led class everywhere)
                centre.add(m.classifier[-1])
        for conv in target:
            conv.bias.zero_()
        if target:
            seen, means = {}, {}

            def record(mod, inputs, out):
                seen[mod], means[mod] = out.std(), out.mean((0, 2, 3))

            hooks = [c.register_forward_hook(record) for c in target]
            was_training = model.training
            model.eval()
            try:
                model(torch.rand(1, 3, 64, 64, generator=gen))
            finally:
                model.train(was_training)
                for h in hooks:
                    h.remove()
            for conv, std in target.items():
                gain = std / seen[conv].clamp_min(1e-12)
                conv.weight.mul_(gain)
                if conv in centre:
                    conv.bias.copy_(-means[conv] * gain)
    return model


def hornet_share(model: torch.nn.Module, x: torch.Tensor) -> float:
    """How much the HorBlocks' residual branches move the class scores of ``model(x)`` (rows 4: of a detection
    output; max change when their layer scales are zeroed): an equality check is only meaningful when this is far
    above its tolerance."""
    from yolo_hornet import HorBlock

    def first(out):
        return out[:, 4:] if isinstance(out, torch.Tensor) else first(out[0])

    with torch.no_grad():
        ref = first(model(x)).clone()
        saved = []
        for m in model.modules():
            if isinstance(m, HorBlock) and m.gamma1 is not None:
                saved.append((m, m.gamma1.clone(), m.gamma2.clone()))
                m.gamma1.zero_()
                m.gamma2.zero_()
        off = first(model(x))
        for m, g1, g2 in saved:
            m.gamma1.copy_(g1)
            m.gamma2.copy_(g2)
    return (ref - off).abs().max().item()
