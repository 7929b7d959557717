"""Load HorNet ImageNet checkpoints into our backbone, and write them in the official layout.

Two layouts are read, detected automatically: the official one (github.com/raoyongming/HorNet; our parameter names
are the official ones) and mmpretrain's converted one (keys under ``backbone.``, ``gnconv.projs`` for
``gnconv.pws``, layer scale as ``gamma1.weight``/``gamma2.weight``, the final norm as ``norm3``, the classifier under
``head.fc``), which :func:`from_mmpretrain` maps onto the official names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn as nn

from .hornet import PRESETS, HorNet, preset_key
from .pretrained import preset_of, pretrained_file

HEAD_PREFIXES = ("norm.", "head.")


def find_hornet(model: nn.Module) -> HorNet:
    """Return the HorNet backbone inside ``model`` (a HorNet, a YOLO DetectionModel or an ``ultralytics.YOLO``)."""
    if isinstance(model, HorNet):
        return model
    inner = getattr(model, "model", None)
    if isinstance(inner, nn.Module):
        model = inner
    if isinstance(model, nn.Module):
        for m in model.modules():
            if isinstance(m, HorNet):
                return m
    raise ValueError("no HorNet backbone found in the model: official HorNet weights need a model with a HorNet row")


def is_mmpretrain(sd: Mapping[str, torch.Tensor]) -> bool:
    """True for mmpretrain's HorNet key layout (``backbone.`` prefix, ``gnconv.projs``, ``gamma1.weight``)."""
    return any(
        k.startswith("backbone.") or ".gnconv.projs." in k or k.endswith((".gamma1.weight", ".gamma2.weight"))
        for k in sd
    )


def from_mmpretrain(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map an mmpretrain HorNet state dict onto the official names; its classifier and output norms are dropped
    (``head.*``, ``neck.*``, ``norm0..3``), as the official ``norm.*``/``head.*`` are."""
    out = {}
    for key, value in sd.items():
        if not key.startswith("backbone."):
            continue  # head.fc.*, neck.*, data_preprocessor.*
        key = key.removeprefix("backbone.")
        if key.split(".", 1)[0] in {"norm0", "norm1", "norm2", "norm3"}:
            continue  # mmpretrain's per-output norms (norm3: the final norm before the classifier)
        key = key.replace(".gnconv.projs.", ".gnconv.pws.")
        if key.endswith((".gamma1.weight", ".gamma2.weight")):
            key = key.removesuffix(".weight")
        out[key] = value
    return out


def read_state_dict(checkpoint: str | Path | Mapping) -> dict[str, torch.Tensor]:
    """Return the bare state dict, official names, of a checkpoint given as a path, a weights name
    (``hornet_tiny_7x7``: the verified cached download, :mod:`yolo_hornet.pretrained`), ``{'model': sd}``,
    ``{'state_dict': sd}`` or a bare state dict, in the official or mmpretrain layout; a ``module.`` prefix (DDP) is
    removed."""
    if isinstance(checkpoint, (str, Path)):
        path = Path(checkpoint)
        if not path.exists() and preset_of(str(checkpoint)):  # a name such as "hornet_tiny_7x7": cache / download
            path = pretrained_file(str(checkpoint))
        if not path.is_file():
            raise ValueError(f"official HorNet checkpoint not found: {path}")
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001  (any unpickling failure means the file is not a usable checkpoint)
            raise ValueError(f"cannot read official HorNet checkpoint {path}: {e}") from e
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"an official HorNet checkpoint is a dict of tensors, got {type(checkpoint).__name__}")
    for key in ("model", "state_dict"):
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    sd = {k.removeprefix("module."): v for k, v in checkpoint.items()}
    if not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError("the checkpoint holds no state dict of tensors (expected {'model': state_dict})")
    return from_mmpretrain(sd) if is_mmpretrain(sd) else sd


def load_official_weights(model: nn.Module, checkpoint: str | Path | Mapping) -> HorNet:
    """Load a HorNet ImageNet checkpoint (official or mmpretrain layout) into the HorNet backbone of ``model``.

    The classification head (``norm.*``, ``head.*``) is dropped; every other key must match the backbone exactly.

    Args:
        model (nn.Module): A :class:`HorNet`, a YOLO model with a HorNet row, or an ``ultralytics.YOLO`` (then
            ``model.train()`` starts from the loaded weights).
        checkpoint (str | Path | Mapping): Path to the ``.pth`` file, a weights name such as ``"hornet_tiny_7x7"``
            (downloaded once into the cache and verified), or the loaded dict.

    Returns:
        (HorNet): The backbone that received the weights.

    Raises:
        ValueError: Naming the first missing key, unexpected key or shape mismatch (wrong variant or size).
    """
    target = find_hornet(model)
    sd = {k: v for k, v in read_state_dict(checkpoint).items() if not k.startswith(HEAD_PREFIXES)}
    own = target.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    hint = "the checkpoint is a different HorNet variant (depths, width, 7x7 vs GF) than the model"
    if missing:
        raise ValueError(f"official HorNet checkpoint is missing key '{missing[0]}' ({len(missing)} missing): {hint}")
    if unexpected:
        raise ValueError(
            f"official HorNet checkpoint has unexpected key '{unexpected[0]}' ({len(unexpected)} unexpected): {hint}"
        )
    for k, v in own.items():
        if v.shape != sd[k].shape:
            raise ValueError(
                f"shape mismatch for '{k}': checkpoint {tuple(sd[k].shape)} vs model {tuple(v.shape)}: {hint}"
            )
    target.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()}, strict=True)
    from ultralytics.engine.model import Model

    if isinstance(model, Model) and not model.ckpt:
        # an ultralytics.YOLO built from a YAML: train() would build a fresh model and drop these weights; with a
        # ckpt set it starts from this module instead (what ultralytics' own Model.load(module) does)
        model.ckpt = {"model": model.model}
    return target


def official_state_dict(model: nn.Module, num_classes: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    """Return ``{'model': state_dict}`` in the official HorNet layout for the HorNet inside ``model``.

    With ``num_classes`` > 0 a zero-initialised ``norm.*``/``head.*`` classifier is added, as in the release files.
    """
    target = find_hornet(model)
    sd = {k: v.detach().clone() for k, v in target.state_dict().items()}
    if num_classes:
        c = target.dims[-1]
        sd.update(
            {
                "norm.weight": torch.ones(c),
                "norm.bias": torch.zeros(c),
                "head.weight": torch.zeros(num_classes, c),
                "head.bias": torch.zeros(num_classes),
            }
        )
    return {"model": sd}


def hornet(name: str, pretrained: bool = False, **overrides) -> HorNet:
    """Build a paper preset: ``tiny|small|base|large`` + ``_7x7|_gf|_gf_384`` (depths [2, 3, 18, 2], orders 2-5).

    Args:
        name (str): Preset name, with or without a ``hornet_`` prefix (e.g. ``"tiny_gf"``).
        pretrained (bool): Load the ImageNet-1k weights (T/S/B, 7x7 and GF), downloaded into the cache on first use
            and verified (:mod:`yolo_hornet.pretrained`).
        **overrides: Any :class:`HorNet` keyword, e.g. ``drop_path_rate=0.2``.
    """
    key = preset_key(name)
    model = HorNet(**{**PRESETS[key], **overrides})
    if pretrained:
        load_official_weights(model, pretrained_file(key))
    return model
