"""Every place yolo_hornet touches the installed, unmodified ultralytics, in one file.

No file of ultralytics is changed. Functions are replaced only through :func:`wrap_once`, which marks its wrapper so
that nothing is wrapped twice (a second ``register()`` does nothing).

On ``import yolo_hornet`` (:func:`register`), and nothing else:

1. our classes go into the namespace of ``ultralytics.nn.tasks`` under their YAML names, and ``parse_model`` is
   replaced by an in-memory copy of the installed one whose ``base_modules`` set also holds our modules (c1 inferred,
   c2 = ``make_divisible(min(c2, max_channels) * width, 8)``) and whose ``repeat_modules`` set holds
   ``C3HB``/``C2fHB``, wrapped so that a ``HorNet`` row's depths are depth-scaled and the ``Index`` rows after it get
   the scaled stage widths;
2. ``BaseModel.fuse`` (predict, val, export) also folds our layers (:mod:`yolo_hornet.fuse`);
3. ``check_file`` / ``attempt_download_asset`` find our ready YAMLs, ``yolov8n-hornet.pt`` and ``digitscenes.yaml``
   by bare name from any folder (a file of that name in the working folder wins);
4. ``generate_ddp_file`` makes DDP workers see our modules;
5. our classes join the allow-list of ultralytics' restricted loader (``ULTRALYTICS_SAFE_LOAD``);
6. ``BaseTrainer.build_optimizer`` follows the official HorNet recipe for our modules: their 1-D parameters (layer
   scales ``gamma1``/``gamma2``, norms) and biases get no weight decay (ultralytics would decay the layer scales);
   ``_load_checkpoint_state`` undoes that grouping when resuming a run whose optimizer was saved without it.

Only in our command-line tools: :func:`cli_offline_policy` (no online probe, no settings sync, no auto-install, a
local font, no AMP-check download, no OpenVINO analytics) and :func:`restricted_loading` (every checkpoint loaded
with ``weights_only``).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import os
import re
import shutil
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import ultralytics
from packaging.version import Version
from ultralytics.nn import tasks
from ultralytics.utils.ops import make_divisible

from .csp_blocks import C3HB, C2fHB
from .gnconv import gnConv
from .horblock import HorBlock
from .horfpn import HorFPN
from .hornet import PRESETS, HorNetBackbone, HorNetPreset, preset_key

TESTED_ULTRALYTICS = ("8.4.0", "8.5.0")  # [min, max)
YAML_MODULES = {
    "gnConv": gnConv,
    "HorBlock": HorBlock,
    "C3HB": C3HB,
    "C2fHB": C2fHB,
    "HorNet": HorNetBackbone,
    "HorNetBackbone": HorNetBackbone,
    "HorFPN": HorFPN,
}
REPEAT_MODULES = ("C3HB", "C2fHB")
PLAIN_MODULES = {"HorNetPreset": HorNetPreset}  # built from its args as written: no c1, no width or depth scaling
HORNET_ROWS = ("HorNet", "HorNetBackbone")
_MARK = "_yolo_hornet"


def check_ultralytics_version(version: str | None = None) -> bool:
    """Warn with a clear message when the installed ultralytics is outside the tested range; return True if inside."""
    version = version or ultralytics.__version__
    lo, hi = TESTED_ULTRALYTICS
    if Version(lo) <= Version(version) < Version(hi):
        return True
    warnings.warn(
        f"yolo_hornet is tested with ultralytics>={lo},<{hi} but {version} is installed; if models fail to build, "
        f"run: pip install 'ultralytics>={lo},<{hi}'",
        RuntimeWarning,
        stacklevel=3,
    )
    return False


def _extend_sets(source: str) -> ast.Module:
    """Return the AST of ``parse_model`` with our names added to its ``base_modules``/``repeat_modules`` sets."""
    extra = {"base_modules": list(YAML_MODULES), "repeat_modules": list(REPEAT_MODULES)}
    tree = ast.parse(textwrap.dedent(source))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            value = node.value
            if name in extra and isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Set):
                value.args[0].elts.extend(ast.Name(id=n, ctx=ast.Load()) for n in extra[name])
                found.add(name)
    if found != set(extra):
        raise RuntimeError(
            f"yolo_hornet cannot register its modules with ultralytics {ultralytics.__version__}: parse_model has no "
            f"{sorted(set(extra) - found)} set; install ultralytics>={TESTED_ULTRALYTICS[0]},<{TESTED_ULTRALYTICS[1]}"
        )
    return ast.fix_missing_locations(tree)


def _scales(d: dict) -> tuple[float, float, float]:
    """Return (depth, width, max_channels) exactly as ``parse_model`` derives them from a model dict."""
    depth, width, max_channels = d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), float("inf")
    scales = d.get("scales")
    if scales:
        scale = d.get("scale") or next(iter(scales.keys()))
        depth, width, max_channels = scales[scale]
    return depth, width, max_channels


def prepare_hornet_rows(d: dict) -> dict:
    """Depth-scale the depths of ``HorNet`` rows and give the ``Index`` rows reading them the scaled stage widths.

    A ``HorNet`` row whose first argument is a preset name (``[-1, 1, HorNet, [tiny_7x7]]``) becomes a
    ``HorNetPreset`` row: the official layout, unscaled, and its ``Index`` rows get the preset's widths.

    Args:
        d (dict): A model dict as passed to ``parse_model`` (modified in place and returned).
    """
    depth, width, max_channels = _scales(d)
    rows = d.get("backbone", []) + d.get("head", [])
    base_of = {}
    for i, row in enumerate(rows):
        f, _, m, args = row
        if m in HORNET_ROWS and args and isinstance(args[0], str):
            row[2] = "HorNetPreset"
            args[0] = preset_key(args[0])  # ValueError naming the presets for a typo
            base_of[i] = PRESETS[args[0]].get("base_dim", 64)
        elif m in HORNET_ROWS:
            base = args[0] if args else 64
            depths = list(args[1]) if len(args) > 1 else [2, 3, 18, 2]
            depths = [max(round(n * depth), 1) if n > 1 else n for n in depths]
            args[:2] = [base, depths]
            base_of[i] = make_divisible(min(base, max_channels) * width, 8)
        elif m == "Index" and isinstance(f, int) and (i + f if f < 0 else f) in base_of:
            level = args[1] if len(args) > 1 else 0
            args[:1] = [base_of[i + f if f < 0 else f] * 2**level]
    return d


def wrap_once(owner: object, name: str, make_wrapper: Callable[[Callable], Callable]) -> Callable:
    """Replace ``owner.name`` by ``make_wrapper(original)`` unless it is already our wrapper; return what is there.

    The one way this package changes an ultralytics function: the wrapper is marked, so a second call (a second
    ``register()``, a reload) never wraps twice.
    """
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return original
    wrapper = functools.wraps(original)(make_wrapper(original))
    setattr(wrapper, _MARK, True)
    setattr(owner, name, wrapper)
    return wrapper


def hook_fuse() -> None:
    """Make ultralytics' ``BaseModel.fuse()`` (used by predict, val and export) also fold our layers."""

    def make(original):
        def fuse(self, *args, **kwargs):
            from .fuse import fuse_hornet_modules

            model = original(self, *args, **kwargs)
            fuse_hornet_modules(self)
            return model

        return fuse

    wrap_once(tasks.BaseModel, "fuse", make)


def bundled_file(name: str) -> str | None:
    """Path of what a bare ``name`` means in this package: a ready YAML, bundled weights (``yolov8n-hornet.pt``,
    ``yolov8n-seg-hornet.pt``) or ``digitscenes.yaml``; None otherwise.

    ``digitscenes.yaml`` is the bundled DigitScenes split (300 train / 100 val at 320 px, seed 0), written on first
    use into ultralytics' datasets folder, as ultralytics does for ``coco8.yaml``.
    """
    from .cli.resolve import BUNDLED_WEIGHTS, CFG_DIR

    if (CFG_DIR / name).is_file():
        return str(CFG_DIR / name)
    if name.endswith(".pt") and (BUNDLED_WEIGHTS.parent / name).is_file():  # yolov8n-hornet.pt, yolov8n-seg-hornet.pt
        return str(BUNDLED_WEIGHTS.parent / name)
    if name == "digitscenes.yaml":
        from ultralytics.utils import DATASETS_DIR

        from .data.digitscenes import write_dataset_safely

        folder = Path(DATASETS_DIR) / "digitscenes"
        if not (folder / "data.yaml").is_file():
            write_dataset_safely(folder, overwrite=folder.is_dir(), train=300, val=100, imgsz=320, seed=0)
        return str(folder / "data.yaml")
    return None


def hook_names() -> None:
    """Let ``YOLO("yolov8s-hornet.yaml")`` and ``data="digitscenes.yaml"`` work from any folder.

    ultralytics' ``check_file`` looks for a bare name in the working directory and in its own ``cfg`` folder; the
    wrapper asks :func:`bundled_file` only when that name is not a file here, so a user's file of the same name wins.
    """
    from ultralytics.data import utils as data_utils
    from ultralytics.engine import trainer as engine_trainer
    from ultralytics.utils import checks, downloads

    def make(original):
        def check_file(file, *args, **kwargs):
            name = str(file) if isinstance(file, (str, Path)) else ""
            if name.endswith((".yaml", ".yml")) and Path(name).name == name and not Path(name).exists():
                ours = bundled_file(name)
                if ours:
                    return ours
            return original(file, *args, **kwargs)

        return check_file

    wrapped = wrap_once(checks, "check_file", make)  # check_yaml calls this module global
    for module in (tasks, data_utils, engine_trainer):  # modules that imported the name itself
        if getattr(module, "check_file", None) is not wrapped:
            module.check_file = wrapped

    def make_fetch(original):
        def attempt_download_asset(file, *args, **kwargs):
            name = str(file)
            ours = bundled_file(name) if name.endswith(".pt") and Path(name).name == name else None
            if ours and not Path(name).exists():
                # like ultralytics' download of official weights: a copy lands in the working folder (so exports
                # are written there, not into the installed package); an existing file of that name is used as is
                shutil.copyfile(ours, name)
                return name
            return original(file, *args, **kwargs)

        return attempt_download_asset

    wrap_once(downloads, "attempt_download_asset", make_fetch)  # YOLO("x.pt"): torch_safe_load imports it per call


SCALE_IN_NAME = re.compile(r"(\d+)([nslmx])(.+)?$")  # ultralytics' scale pattern (yolov8s.yaml -> yolov8.yaml)


def unscaled_file(path: str | Path) -> Path | None:
    """The file a scaled YAML path means, found by stripping the scale letter from the file *name* only.

    ``run2s/yolov8s-mine.yaml`` -> ``run2s/yolov8-mine.yaml`` (when that file exists). None when ``path`` is a bare
    name, exists itself, carries no scale letter or the unscaled file does not exist.
    """
    path = Path(path)
    if path.name == str(path) or path.is_file():
        return None
    unscaled = path.with_name(SCALE_IN_NAME.sub(r"\1\3", path.name))
    return unscaled if unscaled != path and unscaled.is_file() else None


def hook_yaml_paths() -> None:
    """Scaled YAML paths in any folder: ``YOLO("<folder>/yolov8s-hornet.yaml")`` for a folder such as ``run2s``.

    ultralytics strips the scale letter with a pattern applied to the whole path string, so a folder name with a
    digit followed by n/s/m/l/x (``run2s``, ``tmp.Xy1xl``) loses a letter instead of the file name. The wrapper
    loads the unscaled file of the same folder and sets ``scale``/``yaml_file`` from the name, as ultralytics does.
    """
    from ultralytics import nn as unn
    from ultralytics.engine import model as engine_model

    def make(original):
        def yaml_model_load(path):
            unscaled = unscaled_file(path)
            if unscaled is None:
                return original(path)
            d = original(unscaled)
            d["scale"] = tasks.guess_model_scale(Path(path))
            d["yaml_file"] = str(path)
            return d

        return yaml_model_load

    wrapped = wrap_once(tasks, "yaml_model_load", make)
    for module in (unn, engine_model):  # modules that imported the name itself
        if getattr(module, "yaml_model_load", None) is not wrapped:
            module.yaml_model_load = wrapped


def materialize_model(trainer) -> None:
    """DDP: replace a YAML path in ``trainer.model`` by the built model, so every worker gets the same module and
    unpickling it imports ``yolo_hornet`` (weights stay as the trainer would load them)."""
    model = trainer.model
    if isinstance(model, (str, Path)) and str(model).endswith((".yaml", ".yml")):
        trainer.model = trainer.get_model(cfg=str(model), weights=None, verbose=False)


DDP_IMPORT_LINE = "    import yolo_hornet  # registers the HorNet modules in this DDP worker\n"
DDP_POLICY_LINE = "    from yolo_hornet.ultralytics_glue import cli_offline_policy; cli_offline_policy()\n"
_cli_policy = False  # set by cli_offline_policy(): our command runs in this process (DDP workers then follow it)


def add_ddp_import(script: str) -> None:
    """Insert ``import yolo_hornet`` into a generated DDP worker script, right after its ``sys.path`` line (and,
    when one of our commands launched it, the same offline policy)."""
    path = Path(script)
    lines = path.read_text().splitlines(keepends=True)
    at = next((i + 1 for i, line in enumerate(lines) if line.strip().startswith("sys.path =")), None)
    if at is None:
        at = next(i + 1 for i, line in enumerate(lines) if "__main__" in line)
    lines.insert(at, DDP_IMPORT_LINE + (DDP_POLICY_LINE if _cli_policy else ""))
    path.write_text("".join(lines))


def hook_ddp() -> None:
    """Multi-GPU: ultralytics' launcher writes a worker script plus a cloudpickled trainer; each worker imports only
    ultralytics. The wrapped ``generate_ddp_file`` sends a YAML-built model as a module and imports ``yolo_hornet``
    in the worker script (covers ``.pt`` starts and resume)."""
    from ultralytics.utils import dist

    def make(original):
        def generate_ddp_file(trainer):
            materialize_model(trainer)
            script = original(trainer)
            add_ddp_import(script)
            return script

        return generate_ddp_file

    wrap_once(dist, "generate_ddp_file", make)


def no_decay_params(model: torch.nn.Module) -> set[int]:
    """``id``s of the parameters of our modules that the official HorNet recipe trains without weight decay: every
    1-D parameter (layer scales, norm weights) and every bias. (The global filter's ``complex_weight`` is 4-D and
    decayed, as in the official ``get_parameter_groups``.)"""
    ours = tuple(set(our_classes().values()))
    return {
        id(p)
        for m in model.modules()
        if isinstance(m, ours)
        for name, p in m.named_parameters(recurse=False)
        if p.ndim <= 1 or name.endswith("bias")
    }


def apply_hornet_recipe(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> int:
    """Move the :func:`no_decay_params` of ``model`` out of the decayed groups of an ultralytics optimizer into its
    no-decay ``bn`` group of the same learning rate. Returns how many moved; the moves are remembered on the
    optimizer (``_yolo_hornet_moved``) so that :func:`undo_hornet_recipe` can restore ultralytics' grouping."""
    ids = no_decay_params(model)
    groups = optimizer.param_groups
    moved = []
    for i, group in enumerate(groups):
        if group.get("weight_decay", 0) <= 0 or group.get("use_muon"):
            continue
        out = [p for p in group["params"] if id(p) in ids]
        dest = next(
            (j for j, g in enumerate(groups) if g.get("param_group") == "bn" and g.get("lr") == group.get("lr")),
            None,
        )
        if not out or dest is None:
            continue
        group["params"] = [p for p in group["params"] if id(p) not in ids]
        groups[dest]["params"].extend(out)
        moved.append((i, dest, out))
    optimizer._yolo_hornet_moved = moved
    return sum(len(out) for _, _, out in moved)


def undo_hornet_recipe(optimizer: torch.optim.Optimizer) -> None:
    """Put the parameters :func:`apply_hornet_recipe` moved back where ultralytics had them."""
    for src, dest, out in reversed(getattr(optimizer, "_yolo_hornet_moved", [])):
        ids = {id(p) for p in out}
        optimizer.param_groups[dest]["params"] = [p for p in optimizer.param_groups[dest]["params"] if id(p) not in ids]
        optimizer.param_groups[src]["params"].extend(out)
    optimizer._yolo_hornet_moved = []


def hook_optimizer() -> None:
    """ultralytics' optimizer with the official HorNet weight-decay recipe for our modules (see the module doc)."""
    from ultralytics.engine.trainer import BaseTrainer

    def make_build(original):
        def build_optimizer(self, model, *args, **kwargs):
            optimizer = original(self, model, *args, **kwargs)
            moved = apply_hornet_recipe(optimizer, model)
            if moved:
                from ultralytics.utils import LOGGER

                LOGGER.info(
                    f"yolo_hornet: {moved} HorNet layer-scale/norm parameters without weight decay (official recipe)"
                )
            return optimizer

        return build_optimizer

    def make_load(original):
        def _load_checkpoint_state(self, ckpt):
            saved = (ckpt.get("optimizer") or {}).get("param_groups")
            if saved and self.optimizer is not None:
                sizes = [len(g["params"]) for g in self.optimizer.param_groups]
                if [len(g["params"]) for g in saved] != sizes:  # saved before the recipe (an older yolo_hornet)
                    undo_hornet_recipe(self.optimizer)
            return original(self, ckpt)

        return _load_checkpoint_state

    wrap_once(BaseTrainer, "build_optimizer", make_build)
    if hasattr(BaseTrainer, "_load_checkpoint_state"):  # (8.4.x releases before it resume without the undo)
        wrap_once(BaseTrainer, "_load_checkpoint_state", make_load)


def our_classes() -> dict[str, type]:
    """``{"module.QualName": class}`` of every ``nn.Module`` a yolo_hornet checkpoint may pickle (our layers and
    torchvision's ``StochasticDepth``, HorBlock's drop path)."""
    import importlib

    import torch.nn as nn
    import torchvision.ops

    found: dict[str, type] = {}
    for name in LAYER_MODULES:  # by full name: ``yolo_hornet.hornet`` is also the name of a function in the package
        module = importlib.import_module(f"yolo_hornet.{name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    sd = torchvision.ops.StochasticDepth
    found[f"{sd.__module__}.{sd.__qualname__}"] = sd
    return found


LAYER_MODULES = ("csp_blocks", "global_local_filter", "gnconv", "horblock", "horfpn", "hornet", "layer_norm")


def allow_our_classes() -> None:
    """Put our classes on ultralytics' restricted-load allow-list (idempotent; no file is read)."""
    from ultralytics.nn.tasks import _SafeLoad

    with _SafeLoad._lock:
        if _SafeLoad._registry is None:
            _SafeLoad._registry = _SafeLoad._build()
        _SafeLoad._registry.update(our_classes())


@contextlib.contextmanager
def restricted_loading(enabled: bool = True) -> Iterator[None]:
    """Within the block, ultralytics loads every checkpoint with ``weights_only=True`` (its ``SAFE_LOAD`` switch).

    The command-line tools run inside this block unless the user passed ``--trust-weights``; the previous setting
    comes back on exit.
    """
    import ultralytics.utils as uutils

    before = tasks.SAFE_LOAD, uutils.SAFE_LOAD
    tasks.SAFE_LOAD = uutils.SAFE_LOAD = enabled or before[0]
    try:
        yield
    finally:
        tasks.SAFE_LOAD, uutils.SAFE_LOAD = before


def local_font(font: str = "Arial.ttf") -> Path:
    """A TrueType font that exists here: the requested one in ultralytics' config dir, else matplotlib's DejaVu Sans."""
    import matplotlib
    from ultralytics.utils import USER_CONFIG_DIR

    file = USER_CONFIG_DIR / Path(font).name
    if file.exists():
        return file
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def offline_amp_check(original: Callable) -> Callable:
    """ultralytics' AMP check, minus its model download: without ``yolo26n.pt`` in the weights folder the check is
    skipped and AMP stays on (ultralytics' own offline outcome, reached without a network attempt)."""

    def check_amp(model, *args, **kwargs):
        from ultralytics.utils import LOGGER, WEIGHTS_DIR

        device = next(model.parameters()).device
        if device.type in {"cpu", "mps"} or (WEIGHTS_DIR / "yolo26n.pt").is_file():
            return original(model, *args, **kwargs)
        LOGGER.info(f"AMP: checks skipped (offline, no yolo26n.pt download); using AMP on {device}")
        return True

    return check_amp


def cli_offline_policy() -> None:
    """What our commands add on top of ``yolo_hornet_cli.offline_env``: plots use a local font instead of downloading
    Arial, the AMP check does not download its model, and OpenVINO's converter sends no analytics unless the user
    opted in (its default is to send them). Skipped when the user set ``YOLO_OFFLINE=0``."""
    import importlib
    import importlib.util

    from yolo_hornet_cli import offline_env  # the one definition; entry points call it before ultralytics loads

    global _cli_policy
    offline_env()
    if os.environ.get("YOLO_OFFLINE", "1").lower() in {"0", "false"}:
        return
    _cli_policy = True
    for name in ("ultralytics.utils.checks", "ultralytics.utils.plotting", "ultralytics.data.utils"):
        module = importlib.import_module(name)
        if hasattr(module, "check_font"):
            wrap_once(module, "check_font", lambda original: functools.partial(local_font))
    for name in ("ultralytics.utils.checks", "ultralytics.engine.trainer"):
        wrap_once(importlib.import_module(name), "check_amp", offline_amp_check)
    if importlib.util.find_spec("openvino_telemetry"):  # OpenVINO export: no analytics without an explicit opt-in
        from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker

        def make(original):
            def check(self, *args, **kwargs):
                result = original(self, *args, **kwargs)
                return result if result == ConsentCheckResult.ACCEPTED else ConsentCheckResult.DECLINED

            return check

        wrap_once(OptInChecker, "check", make)


def register() -> None:
    """Register our YAML modules with the installed ultralytics (idempotent)."""
    check_ultralytics_version()
    for name, cls in {**YAML_MODULES, **PLAIN_MODULES}.items():
        setattr(tasks, name, cls)
    hook_fuse()
    hook_names()
    hook_yaml_paths()
    hook_ddp()
    hook_optimizer()
    allow_our_classes()

    def make(original):
        namespace: dict = {}
        code = compile(_extend_sets(inspect.getsource(original)), f"<yolo_hornet: {tasks.__file__}>", "exec")
        exec(code, tasks.__dict__, namespace)  # noqa: S102  (the installed function, with two sets extended)
        extended = namespace["parse_model"]

        def parse_model(d, ch, verbose=True):
            return extended(prepare_hornet_rows(d), ch, verbose)

        return parse_model

    import ultralytics.nn as unn

    unn.parse_model = wrap_once(tasks, "parse_model", make)
