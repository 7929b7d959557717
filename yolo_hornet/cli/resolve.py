"""Resolve what users type: model config names, weights files, data files, devices."""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path

import torch
import yaml

from yolo_hornet.bundled import bundled_file
from yolo_hornet.paths import CFG_DIR, CHECKOUT_DATA

from .errors import UserError


def bundled_data() -> str:
    """The bundled DigitScenes split: the checkout's copy, else (installed from a wheel) ``digitscenes.yaml``, which
    is generated into ultralytics' datasets folder on first use."""
    if CHECKOUT_DATA.is_file():
        return str(CHECKOUT_DATA)
    return bundled_file("digitscenes.yaml")


def our_cfgs() -> list[str]:
    """Names of the YAMLs shipped in ``models/yaml`` (``yolo_hornet/cfg``)."""
    return sorted(p.name for p in CFG_DIR.glob("*.yaml"))


def resolve_cfg(cfg: str) -> str:
    """Return what ``ultralytics.YOLO`` should load for ``--cfg``.

    A path that exists is used as is. A bare name such as ``yolov5s-hornet.yaml`` resolves to
    ``models/yaml/yolov5-hornet.yaml`` at scale s (ultralytics reads the scale from the name); stock names such as
    ``yolov8n.yaml`` go to ultralytics' own configs. Anything else is a :class:`UserError`.
    """
    from ultralytics.utils.checks import check_yaml

    path = Path(cfg)
    if path.suffix not in {".yaml", ".yml"}:
        path = path.with_suffix(".yaml")
    if path.is_file():
        return str(path)
    unified = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", path.name)
    if (CFG_DIR / unified).is_file() or (CFG_DIR / path.name).is_file():
        return str(CFG_DIR / path.name)
    if not path.parent.parts and (check_yaml(path.name, hard=False) or check_yaml(unified, hard=False)):
        return path.name
    raise UserError(
        f"unknown --cfg '{cfg}': not a file and not a known model; use a path to a YAML, one of "
        f"{', '.join(our_cfgs())} (with a scale letter, e.g. yolov8s-hornet.yaml) or a stock name like yolov8n.yaml"
    )


def open_model(source: str):
    """``ultralytics.YOLO(source)``, or ``ultralytics.RTDETR`` for an RT-DETR model (a YAML whose head is
    ``RTDETRDecoder``, or a checkpoint holding an ``RTDETRDetectionModel``), whose predictor and validator differ."""
    from ultralytics import RTDETR, YOLO

    path = Path(source)
    if path.suffix in {".yaml", ".yml"}:
        text = path.read_text(errors="replace") if path.is_file() else ""
        if "RTDETRDecoder" in text or (not text and "rtdetr" in path.name):
            return RTDETR(source)
        return YOLO(source)
    model = YOLO(source)
    if type(getattr(model, "model", None)).__name__ == "RTDETRDetectionModel":
        return RTDETR(source)
    return model


def load_checkpoint_file(path: str | Path, flag: str = "--weights", trust: bool = False):
    """Load a user's ``.pt``/``.pth`` without running code from it (see :mod:`yolo_hornet.safe_load`).

    Raises :class:`UserError` for a missing, empty, damaged or refused file; ``trust`` (``--trust-weights``) allows
    full unpickling of a file the user trusts.
    """
    from yolo_hornet.safe_load import DamagedCheckpointError, UnsafeCheckpointError, safe_load

    path = Path(path)
    if not path.is_file() and path.name == str(path) and path.suffix == ".pt":
        path = Path(bundled_file(path.name) or path)  # the bundled weights by name, as YOLO("yolov8n-hornet.pt") does
    if not path.is_file():
        raise UserError(f"{flag} '{path}' not found; give the path of a .pt saved by ultralytics or a HorNet .pth")
    if path.stat().st_size == 0:
        raise UserError(f"{flag} '{path}' is an empty file")
    try:
        return safe_load(path, trust=trust)
    except UnsafeCheckpointError as e:
        raise UserError(
            f"{flag} '{path}' refused: it needs the Python global '{e.name}', which is not a known model class, and "
            "loading it could run code; if you trust this file, add --trust-weights"
        ) from e
    except DamagedCheckpointError as e:
        raise UserError(f"{flag} '{path}' is not a readable PyTorch checkpoint ({e})") from e


def check_weights_file(weights: str, trust: bool = False) -> dict | None:
    """Check that ``weights`` is a readable model file; return the loaded object for ``.pth``, None for ``.pt``.

    Loading is restricted (``weights_only``) unless ``trust``. Raises :class:`UserError` for a missing, corrupt,
    refused or non-model file.
    """
    ckpt = load_checkpoint_file(weights, "--weights", trust)
    if Path(weights).suffix == ".pth":
        return ckpt
    model = ckpt.get("ema") or ckpt.get("model") if isinstance(ckpt, dict) else None
    if not isinstance(model, torch.nn.Module):
        kind = type(ckpt).__name__ if not isinstance(ckpt, dict) else f"dict with keys {sorted(ckpt)[:5]}"
        raise UserError(
            f"--weights '{weights}' holds no ultralytics model ({kind}); give a .pt written by ultralytics training "
            "or an official HorNet ImageNet .pth"
        )
    return None


EXPORTED_SUFFIXES = {".onnx", ".torchscript", ".engine", ".mlpackage", ".tflite", ".pb", ".mnn", ".rknn"}


def is_exported(weights: str) -> bool:
    """True for a model exported by ultralytics (a folder such as ``*_openvino_model`` or an ``.onnx`` file...)."""
    path = Path(weights)
    return path.is_dir() or path.suffix.lower() in EXPORTED_SUFFIXES


def check_detector_file(weights: str, trust: bool = False) -> None:
    """``--weights`` of detect/val: a readable ultralytics ``.pt`` or an exported model (ONNX, OpenVINO folder, ...);
    an ImageNet ``.pth`` gets the way forward."""
    if is_exported(weights):
        if not Path(weights).exists():
            raise UserError(f"--weights '{weights}' not found")
        return
    if check_weights_file(weights, trust) is not None:
        raise UserError(
            f"--weights '{weights}' is a HorNet ImageNet .pth (a backbone, not a detector); train a detector from it "
            f"first: python train.py --cfg yolov8l-hornet-backbone.yaml --weights {weights} --data your.yaml"
        )


def model_imgsz(model, imgsz: int | None) -> int:
    """``--imgsz`` if given, else the size ``model`` (an ``ultralytics.YOLO``) was trained or exported at (an
    exported folder's ``metadata.yaml``), else 640; a multiple of 32."""
    if imgsz is None:
        meta = Path(str(model.model_name if hasattr(model, "model_name") else "")) / "metadata.yaml"
        exported = yaml.safe_load(meta.read_text()).get("imgsz") if meta.is_file() else None
        trained = (model.ckpt or {}).get("train_args", {}).get("imgsz")
        found = exported or trained or 640
        imgsz = int(max(found) if isinstance(found, (list, tuple)) else found)
    return round_imgsz(imgsz)


DATA_NOT_FOUND = "--data '{data}' not found; give the path of a dataset YAML (train:, val:, names:) or digitscenes.yaml"


def resolve_data(data: str) -> str:
    """What ``--data`` names, as an absolute path: ``""`` -> the bundled DigitScenes split; an existing file or
    folder; a bare name this package ships (``digitscenes.yaml``, as ``yolo-hornet ... data=digitscenes.yaml``).

    Absolute, so a run stores a dataset path that works from any folder (``--resume`` elsewhere).
    """
    if not data:
        return str(Path(bundled_data()).resolve())
    path = Path(data)
    if not path.exists() and path.name == data:
        path = Path(bundled_file(data) or data)
    if not path.exists():
        raise UserError(DATA_NOT_FOUND.format(data=data))
    return str(path.resolve())


def load_data_yaml(data: str, splits: tuple[str, ...] = ("train", "val")) -> dict:
    """Read and check a dataset YAML: the file, its ``splits`` entries and that they hold images.

    A split missing from the file is an error for train/val; for other splits (``test``) the caller decides.
    """
    from ultralytics.data.utils import IMG_FORMATS

    path = Path(data)
    if not path.is_file():
        raise UserError(DATA_NOT_FOUND.format(data=data))
    try:
        d = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise UserError(f"--data '{data}' is not valid YAML: {e}") from e
    required = [s for s in splits if s in ("train", "val")]
    if not isinstance(d, dict) or any(s not in d for s in required):
        raise UserError(f"--data '{data}' needs {' and '.join(repr(s + ':') for s in required)} entries")
    for split in (s for s in splits if d.get(s)):
        for p in split_paths(data, d, split):
            if not p.exists():
                raise UserError(f"--data '{data}': {split} images not found at {p}")
            files = [p] if p.is_file() else [f for f in p.rglob("*") if f.suffix[1:].lower() in IMG_FORMATS]
            if not files:
                raise UserError(f"--data '{data}': the {split} folder {p} holds no images (empty dataset)")
    return d


def split_paths(data: str, d: dict, split: str) -> list[Path]:
    """The image folders/files of ``split`` in the dataset YAML ``data`` (already read as ``d``), resolved against
    its ``path:`` (relative to the YAML) as ultralytics does."""
    root = Path(d.get("path") or Path(data).parent)
    if not root.is_absolute():
        root = (Path(data).parent / root) if not root.exists() else root
    entries = d[split] if isinstance(d[split], list) else [d[split]]
    return [Path(e) if Path(e).is_absolute() else root / e for e in entries]


def check_device(device: str) -> str:
    """Check ``--device`` against this machine; return it unchanged or raise :class:`UserError`."""
    from ultralytics.utils.torch_utils import select_device

    if device in ("", None):
        return device
    try:
        select_device(device, verbose=False)
    except Exception as e:  # noqa: BLE001  (ultralytics raises ValueError/AssertionError with its own text)
        found = torch.cuda.device_count()
        reason = first_sentence(str(e))
        raise UserError(
            f"--device '{device}' is not available on this machine ({found} CUDA device(s)); use cpu"
            + (f" or 0..{found - 1}" if found else "")
            + (f" (ultralytics: {reason})" if reason else "")
        ) from e
    return device


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of a message without colour codes, cut at a word boundary when longer than ``limit``."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0] + " ..."
    return sentence


def check_writable(project: Path) -> None:
    """Check that runs can be written under ``project``."""
    probe = project
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK) or not probe.is_dir():
        raise UserError(f"--project '{project}' is not writable; choose another folder with --project")


def round_imgsz(imgsz: int, stride: int = 32) -> int:
    """Round an image size up to a multiple of ``stride`` with a warning, as ultralytics does."""
    if imgsz < stride:
        raise UserError(f"--imgsz must be at least {stride}, got {imgsz}")
    rounded = math.ceil(imgsz / stride) * stride
    if rounded != imgsz:
        print(f"warning: --imgsz {imgsz} must be a multiple of {stride}, using {rounded}", file=sys.stderr)
    return rounded
