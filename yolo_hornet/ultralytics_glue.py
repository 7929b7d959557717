"""Every place yolo_hornet touches the installed, unmodified ultralytics, declared in one table: :data:`PATCHES`.

Each row names its target, how public it is, the assumption it relies on, its scope (``import``: applied by
``import yolo_hornet``; ``commands``: only in our command-line tools) and a check of that assumption. A row whose
check fails is not applied: one warning names the feature that is off and why (``yolo-hornet doctor`` lists every
row), so an ultralytics release that changes an internal turns one feature off visibly instead of failing at import
or degrading without a word. Functions are replaced only through :func:`wrap_once`, which marks its wrapper so that
nothing is wrapped twice (a second ``register()`` does nothing). No file of ultralytics is changed.

Public extension points need no row of their own beyond a check: ``trainer=`` subclasses built from
``Model.task_map`` (:mod:`yolo_hornet.cli.safe_trainer`) and callbacks. Supported ultralytics: :data:`SUPPORTED`
(the range the compatibility matrix in ``tests/compat`` runs); outside it, one warning names the tested range.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
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

from .bundled import bundled_file
from .csp_blocks import C3HB, C2fHB
from .gnconv import gnConv
from .horblock import HorBlock
from .horfpn import HorFPN
from .hornet import PRESETS, HorNetBackbone, HorNetPreset, preset_key

SUPPORTED = ("8.3.253", "8.4.190")  # [oldest, newest] ultralytics the compatibility matrix runs (pyproject: the same)
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
    """Warn once, naming the tested range, when the installed ultralytics is outside :data:`SUPPORTED`; return True
    if inside. Outside the range every patch row still runs its own check (features turn off one by one, visibly)."""
    version = version or ultralytics.__version__
    lo, hi = SUPPORTED
    if Version(lo) <= Version(version) <= Version(hi):
        return True
    warnings.warn(
        f"yolo_hornet is tested with ultralytics {lo} to {hi} but {version} is installed; `yolo-hornet doctor` "
        f"says which features work here, or run: pip install 'ultralytics>={lo},<={hi}'",
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
        raise RuntimeError(f"parse_model has no {' or '.join(sorted(set(extra) - found))} set")
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


def wrap_everywhere(owner: object, name: str, make_wrapper: Callable[[Callable], Callable]) -> Callable:
    """:func:`wrap_once` on ``owner.name``, then the same wrapper for every loaded ultralytics module that imported the
    original by name (``from ultralytics.utils.checks import check_file``), so no caller keeps the unwrapped one."""
    import sys

    original = getattr(owner, name)
    wrapped = wrap_once(owner, name, make_wrapper)
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] == "ultralytics" and getattr(module, name, None) is original:
            setattr(module, name, wrapped)
    return wrapped


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


CHECK_FILE_IMPORTERS = (  # ultralytics modules with ``from ultralytics.utils.checks import check_file`` (tested)
    "ultralytics.nn.tasks",
    "ultralytics.engine.trainer",
    "ultralytics.data.utils",
    "ultralytics.data.build",
    "ultralytics.data.converter",
    "ultralytics.models.yolo.world.train_world",
)


def hook_names() -> None:
    """Let ``YOLO("yolov8s-hornet.yaml")`` and ``data="digitscenes.yaml"`` work from any folder.

    ultralytics' ``check_file`` looks for a bare name in the working directory and in its own ``cfg`` folder; the
    wrapper asks :func:`bundled_file` only when that name is not a file here, so a user's file of the same name wins.
    """
    import importlib

    from ultralytics.utils import checks

    for name in CHECK_FILE_IMPORTERS:  # loaded first, so that wrap_everywhere rebinds their name too
        with contextlib.suppress(ImportError):
            importlib.import_module(name)

    def make(original):
        def check_file(file, *args, **kwargs):
            name = str(file) if isinstance(file, (str, Path)) else ""
            if name.endswith((".yaml", ".yml")) and Path(name).name == name and not Path(name).exists():
                ours = bundled_file(name)
                if ours:
                    return ours
            return original(file, *args, **kwargs)

        return check_file

    wrap_everywhere(checks, "check_file", make)  # check_yaml calls the module global; others imported the name


def hook_bundled_weights() -> None:
    """``YOLO("yolov8n-hornet.pt")`` from any folder: the bundled weights by bare name."""
    from ultralytics.utils import downloads

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


NEEDS_ULTRALYTICS = {"yolo26": "8.4.0"}  # model family (file-name prefix) -> first ultralytics that builds it
NEEDS_TASK = {"-sem-": "semantic", "-sem.": "semantic", "-depth-": "depth", "-depth.": "depth"}  # name part -> task


def check_family_version(path: str | Path) -> None:
    """Raise one clear ValueError when the YAML's family (``yolo26*.yaml``) or task (``*-sem-*``, ``*-depth-*``)
    needs a newer ultralytics than this one (instead of a TypeError or KeyError deep in parse_model)."""
    name = Path(path).name
    for prefix, needed in NEEDS_ULTRALYTICS.items():
        if name.startswith(prefix) and Version(ultralytics.__version__) < Version(needed):
            raise ValueError(
                f"{name} is a {prefix.upper()} model, which needs ultralytics>={needed} ({ultralytics.__version__} "
                f"is installed): pip install 'ultralytics>={needed}'"
            )
    from ultralytics.cfg import TASKS

    task = next((t for part, t in NEEDS_TASK.items() if part in name), None)
    if task and task not in TASKS:
        raise ValueError(
            f"{name} is a {task} model, and ultralytics {ultralytics.__version__} has no {task} task (it has "
            f"{', '.join(sorted(TASKS))}): pip install -U 'ultralytics<={SUPPORTED[1]}'"
        )


def hook_yaml_paths() -> None:
    """Scaled YAML paths in any folder: ``YOLO("<folder>/yolov8s-hornet.yaml")`` for a folder such as ``run2s``;
    and a YOLO26 YAML on an ultralytics before YOLO26 is one clear error (:func:`check_family_version`).

    ultralytics strips the scale letter with a pattern applied to the whole path string, so a folder name with a
    digit followed by n/s/m/l/x (``run2s``, ``tmp.Xy1xl``) loses a letter instead of the file name. The wrapper
    loads the unscaled file of the same folder and sets ``scale``/``yaml_file`` from the name, as ultralytics does.
    """
    import ultralytics.engine.model  # noqa: F401  (imports yaml_model_load by name)

    def make(original):
        def yaml_model_load(path):
            check_family_version(path)
            unscaled = unscaled_file(path)
            if unscaled is None:
                return original(path)
            d = original(unscaled)
            d["scale"] = tasks.guess_model_scale(Path(path))
            d["yaml_file"] = str(path)
            return d

        return yaml_model_load

    wrap_everywhere(tasks, "yaml_model_load", make)


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
    """Insert ``import yolo_hornet`` into a generated DDP worker script, right after its ``sys.path`` line (else its
    ``__main__`` line) and, when one of our commands launched it, the same offline policy.

    Raises:
        RuntimeError: The script has neither line (ultralytics changed its worker template).
    """
    path = Path(script)
    lines = path.read_text().splitlines(keepends=True)
    anchors = [i + 1 for i, line in enumerate(lines) if line.strip().startswith("sys.path =")]
    anchors = anchors or [i + 1 for i, line in enumerate(lines) if "__main__" in line]
    if not anchors:
        raise RuntimeError(
            f"yolo_hornet cannot add its import to ultralytics {ultralytics.__version__}'s DDP worker script {path} "
            "(no 'sys.path =' or '__main__' line); train HorNet models on one GPU (device=0) with this version"
        )
    lines.insert(anchors[0], DDP_IMPORT_LINE + (DDP_POLICY_LINE if _cli_policy else ""))
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

    wrap_everywhere(dist, "generate_ddp_file", make)


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


def no_decay_group(groups: list[dict], lr: float) -> int | None:
    """Index of the zero-decay, non-bias group of learning rate ``lr`` in an ultralytics optimizer: the one named
    ``bn`` (8.4.x releases name their groups), else the last unnamed zero-decay group (older releases: the first
    group holds the biases, whose warmup differs)."""
    named = [j for j, g in enumerate(groups) if g.get("param_group") == "bn" and g.get("lr") == lr]
    if named:
        return named[0]
    unnamed = [
        j
        for j, g in enumerate(groups)
        if j > 0 and "param_group" not in g and g.get("weight_decay", 0) == 0 and g.get("lr") == lr
    ]
    return unnamed[-1] if unnamed else None


def apply_hornet_recipe(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> int:
    """Move the :func:`no_decay_params` of ``model`` out of the decayed groups of an ultralytics optimizer into its
    no-decay group of the same learning rate (:func:`no_decay_group`). Returns how many moved; the moves are
    remembered on the optimizer (``_yolo_hornet_moved``) so that :func:`undo_hornet_recipe` can restore ultralytics'
    grouping."""
    ids = no_decay_params(model)
    groups = optimizer.param_groups
    moved = []
    for i, group in enumerate(groups):
        if group.get("weight_decay", 0) <= 0 or group.get("use_muon"):
            continue
        out = [p for p in group["params"] if id(p) in ids]
        dest = no_decay_group(groups, group.get("lr"))
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
    """ultralytics' optimizer with the official HorNet weight-decay recipe for our modules (see the module doc); a
    model with our layers whose optimizer gives the recipe nothing to move gets a warning, never silence."""
    from ultralytics.engine.trainer import BaseTrainer

    def make_build(original):
        def build_optimizer(self, model, *args, **kwargs):
            from ultralytics.utils import LOGGER

            optimizer = original(self, model, *args, **kwargs)
            moved = apply_hornet_recipe(optimizer, model)
            if moved:
                LOGGER.info(
                    f"yolo_hornet: {moved} HorNet layer-scale/norm parameters without weight decay (official recipe)"
                )
            elif no_decay_params(model) and any(g.get("weight_decay", 0) > 0 for g in optimizer.param_groups):
                LOGGER.warning(
                    "yolo_hornet: the HorNet weight-decay recipe found no no-decay group in this optimizer "
                    f"(ultralytics {ultralytics.__version__}); layer scales are decayed as ultralytics decides"
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
    if hasattr(BaseTrainer, "_load_checkpoint_state"):
        wrap_once(BaseTrainer, "_load_checkpoint_state", make_load)


LAYER_MODULES = ("csp_blocks", "global_local_filter", "gnconv", "horblock", "horfpn", "hornet", "layer_norm")


def our_classes() -> dict[str, type]:
    """``{"module.QualName": class}`` of every ``nn.Module`` a yolo_hornet checkpoint may pickle (our layers)."""
    import importlib

    import torch.nn as nn

    found: dict[str, type] = {}
    for name in LAYER_MODULES:  # by full name: ``yolo_hornet.hornet`` is also the name of a function in the package
        module = importlib.import_module(f"yolo_hornet.{name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def allow_torchvision_drop_path() -> None:
    """torchvision's ``StochasticDepth`` on the allow-list: HorBlock's drop path in checkpoints saved by yolo_hornet
    before it had its own ``DropPath``. :func:`yolo_hornet.safe_load.safe_load` runs it for a checkpoint that names
    the class (our commands check every file they are given with it first); never at import, since importing
    ``torchvision.ops`` costs about 2 s."""
    from torchvision.ops import StochasticDepth

    torch.serialization.add_safe_globals([StochasticDepth])


def allow_our_classes() -> None:
    """Our classes on torch's ``weights_only`` allow-list (``torch.serialization.add_safe_globals``, public torch
    API), which ultralytics' restricted loader and :mod:`yolo_hornet.safe_load` both use (idempotent)."""
    torch.serialization.add_safe_globals(list(our_classes().values()))


def has_ultralytics_safe_load() -> bool:
    """True when this ultralytics has its own restricted loader with the ``SAFE_LOAD`` switches we turn on."""
    import ultralytics.utils as uutils

    loader = getattr(tasks, "_SafeLoad", None)
    loading = getattr(loader, "loading", None)
    return (
        hasattr(tasks, "SAFE_LOAD")
        and hasattr(uutils, "SAFE_LOAD")
        and loading is not None
        and "weight" in inspect.signature(loading).parameters
    )


@contextlib.contextmanager
def restricted_loading(enabled: bool = True) -> Iterator[None]:
    """Within the block, ultralytics loads every checkpoint with ``weights_only=True`` (its ``SAFE_LOAD`` switch).

    The command-line tools run inside this block unless the user passed ``--trust-weights``; the previous setting
    comes back on exit. An ultralytics without its own restricted loader (row ``safe-load-switch``) loads as it
    always does; our commands check every file the user names with :func:`yolo_hornet.safe_load.safe_load` first.
    """
    if not has_ultralytics_safe_load():
        yield
        return
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


def hook_offline_font() -> None:
    """Plots use a local font instead of downloading Arial (``check_font`` in every module that has it)."""
    import importlib

    for name in ("ultralytics.utils.checks", "ultralytics.utils.plotting", "ultralytics.data.utils"):
        module = importlib.import_module(name)
        if hasattr(module, "check_font"):
            wrap_once(module, "check_font", lambda original: functools.partial(local_font))


def hook_offline_amp() -> None:
    """The AMP check does not download its model (the trainer imported ``check_amp`` by name)."""
    import ultralytics.engine.trainer  # noqa: F401
    from ultralytics.utils import checks

    wrap_everywhere(checks, "check_amp", offline_amp_check)


def _check_depth_calibration() -> str | None:
    """None where ultralytics has no depth task (nothing to make atomic) or calibrate_checkpoint(ckpt_path) exists."""
    import importlib.util

    if importlib.util.find_spec("ultralytics.models.yolo.depth") is None:
        return None
    return _missing("ultralytics.models.yolo.depth.calibrate:calibrate_checkpoint", "ckpt_path")


def hook_depth_calibration() -> None:
    """Depth training's final calibration rewrites best.pt/last.pt atomically (its final_eval imports
    calibrate_checkpoint from the module at call time)."""
    import importlib.util

    if importlib.util.find_spec("ultralytics.models.yolo.depth") is None:
        return
    from ultralytics.models.yolo.depth import calibrate

    from .atomic import atomic_in_place

    wrap_once(calibrate, "calibrate_checkpoint", atomic_in_place)


def hook_openvino_consent() -> None:
    """OpenVINO's converter sends no analytics unless the user opted in (its own default is to send them)."""
    from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker

    def make(original):
        def check(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            return result if result == ConsentCheckResult.ACCEPTED else ConsentCheckResult.DECLINED

        return check

    wrap_once(OptInChecker, "check", make)


OFFLINE_ENV = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false"}  # as yolo_hornet_cli sets them before the import


def cli_offline_policy() -> None:
    """Our commands' offline policy on top of the switches ``yolo_hornet_cli`` sets before ultralytics loads: the
    rows of scope ``commands`` (local font, no AMP-check download, no OpenVINO analytics). Skipped when the user set
    ``YOLO_OFFLINE=0``."""
    global _cli_policy
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    if os.environ.get("YOLO_OFFLINE", "1").lower() in {"0", "false"}:
        return
    _cli_policy = True
    apply_patches("commands")


@contextlib.contextmanager
def atomic_final_strip() -> Iterator[None]:
    """Within the block, ultralytics' end-of-training ``strip_optimizer`` writes to a temporary file in the same
    folder and replaces the checkpoint atomically (row ``strip_optimizer``)."""
    import ultralytics.engine.trainer as engine

    from .atomic import atomic_strip_optimizer

    if "strip_optimizer" in STATUS and STATUS["strip_optimizer"] != "ok":
        yield
        return
    original = engine.strip_optimizer
    engine.strip_optimizer = atomic_strip_optimizer(original)
    try:
        yield
    finally:
        engine.strip_optimizer = original


@contextlib.contextmanager
def command_line(args: list[str]) -> Iterator[None]:
    """Within the block, ultralytics' ``entrypoint()`` sees ``args`` as the command line (it reads ``sys.argv``
    through ``ultralytics.utils.ARGV``, the same list object; row ``argv``)."""
    import sys

    saved = sys.argv[:]
    sys.argv[:] = args
    try:
        yield
    finally:
        sys.argv[:] = saved


def precision_args(half: bool = False, int8: bool = False) -> dict:
    """The precision arguments of predict/val/export in this ultralytics' words: ``quantize=16|8`` (8.4.1xx
    releases, where ``half``/``int8`` are deprecated) or ``half=True``/``int8=True`` (older ones); empty when
    neither is asked for."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    if not (half or int8):
        return {}
    if "quantize" in DEFAULT_CFG_DICT:
        return {"quantize": 8 if int8 else 16}
    return {"int8": True} if int8 else {"half": True}


def names_and_parse_model() -> None:
    """Our classes in ``ultralytics.nn.tasks``' namespace under their YAML names, and ``parse_model`` replaced by an
    in-memory copy of the installed one whose ``base_modules``/``repeat_modules`` sets also hold our modules."""
    for name, cls in {**YAML_MODULES, **PLAIN_MODULES}.items():
        setattr(tasks, name, cls)

    def make(original):
        namespace: dict = {}
        code = compile(_extend_sets(inspect.getsource(original)), f"<yolo_hornet: {tasks.__file__}>", "exec")
        exec(code, tasks.__dict__, namespace)  # noqa: S102  (the installed function, with two sets extended)
        extended = namespace["parse_model"]

        def parse_model(d, ch, verbose=True):
            return extended(prepare_hornet_rows(d), ch, verbose)

        return parse_model

    wrap_everywhere(tasks, "parse_model", make)


# --- the patch table -------------------------------------------------------------------------------------------------


def _missing(dotted: str, *params: str) -> str | None:
    """None when ``dotted`` (``module:attr.attr``) exists and takes ``params``; else what is missing."""
    import importlib

    module_name, _, attrs = dotted.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        return f"{module_name} cannot be imported ({e})"
    for attr in attrs.split(".") if attrs else []:
        if not hasattr(obj, attr):
            return f"{module_name}.{attrs} does not exist"
        obj = getattr(obj, attr)
    if params:
        try:
            have = inspect.signature(getattr(obj, "__wrapped__", obj)).parameters
        except (TypeError, ValueError):
            return f"{module_name}.{attrs} has no readable signature"
        lacking = [p for p in params if p not in have]
        if lacking:
            return f"{module_name}.{attrs} takes no {', '.join(lacking)} argument"
    return None


def _check_parse_model() -> str | None:
    original = getattr(tasks.parse_model, "__wrapped__", tasks.parse_model)
    try:
        source = inspect.getsource(original)
    except (OSError, TypeError):
        return "its Python source is not installed (needed to extend its module sets)"
    if "globals()[m]" not in source:
        return "it no longer looks module names up in ultralytics.nn.tasks' namespace"
    try:
        _extend_sets(source)
    except RuntimeError as e:
        return str(e)
    return None


def _check_optimizer() -> str | None:
    """Build ultralytics' SGD optimizer for one HorBlock and see the recipe move its layer scales (at run time the
    wrapper warns on every build that moves nothing for a model with our layers)."""
    import types

    from ultralytics.engine.trainer import BaseTrainer
    from ultralytics.utils import LOGGER

    build = getattr(BaseTrainer.build_optimizer, "__wrapped__", BaseTrainer.build_optimizer)
    model, level = HorBlock(8), LOGGER.level
    LOGGER.setLevel("ERROR")
    try:
        optimizer = build(types.SimpleNamespace(), model, name="SGD", lr=0.01, momentum=0.9, decay=5e-4)
    except Exception as e:  # noqa: BLE001  (any failure means the assumption broke)
        return f"BaseTrainer.build_optimizer(model, name, lr, momentum, decay) failed: {type(e).__name__}: {e}"
    finally:
        LOGGER.setLevel(level)
    if not apply_hornet_recipe(optimizer, model):
        return "its optimizer has no zero-decay non-bias group of the same lr (param_group 'bn' or unnamed)"
    return None


def _check_safe_load_switch() -> str | None:
    if has_ultralytics_safe_load():
        return None
    return "ultralytics' own restricted loader (_SafeLoad.loading(weight), SAFE_LOAD) needs ultralytics>=8.4.130"


def _check_argv() -> str | None:
    import sys

    import ultralytics.utils as uutils

    if getattr(uutils, "ARGV", sys.argv) is not sys.argv:
        return "ultralytics.utils.ARGV is a copy of sys.argv, not the same list"
    return _missing("ultralytics.cfg:entrypoint")


def _check_openvino() -> str | None:
    import importlib.util

    if not importlib.util.find_spec("openvino_telemetry"):
        return "openvino-telemetry is not installed (nothing to decline)"
    return _missing("openvino_telemetry.utils.opt_in_checker:OptInChecker.check")


@dataclasses.dataclass(frozen=True)
class Patch:
    """One touch point in ultralytics: where, how public, what it assumes, when it applies and how that is checked.

    ``check()`` returns None when the assumption holds on the installed ultralytics, else why not; ``apply()`` runs
    only then. ``feature`` is what a user loses when the check fails.
    """

    name: str
    target: str
    access: str  # public | semi-public (importable, undocumented) | private (underscore or generated text)
    assumption: str
    scope: str  # import | commands
    feature: str
    check: Callable[[], str | None]
    apply: Callable[[], None] = lambda: None
    probe: Callable[[], str | None] | None = None  # slower check of behaviour: doctor and tests (not at import)

    def full_check(self) -> str | None:
        """``check()``, then ``probe()`` where the row has one: what ``yolo-hornet doctor`` and the tests run."""
        return self.check() or (self.probe() if self.probe else None)


PATCHES: tuple[Patch, ...] = (
    Patch(
        "parse_model", "ultralytics.nn.tasks.parse_model (+ its namespace)", "semi-public",
        "its .py source is installed, holds base_modules/repeat_modules sets and resolves names via globals()[m]",
        "import", "HorNet module names in model YAMLs", _check_parse_model, names_and_parse_model,
    ),
    Patch(
        "fuse", "ultralytics.nn.tasks.BaseModel.fuse", "public",
        "predict, val and export fold a model by calling BaseModel.fuse()",
        "import", "folding HorNet layers for inference", lambda: _missing("ultralytics.nn.tasks:BaseModel.fuse"),
        hook_fuse,
    ),
    Patch(
        "check_file", "ultralytics.utils.checks.check_file (+ modules importing it)", "semi-public",
        "YAML and dataset names are found through check_file(file, ...)",
        "import", "ready YAMLs and digitscenes.yaml by bare name from any folder",
        lambda: _missing("ultralytics.utils.checks:check_file", "file"), hook_names,
    ),
    Patch(
        "attempt_download_asset", "ultralytics.utils.downloads.attempt_download_asset", "semi-public",
        "YOLO('x.pt') looks a weights name up through downloads.attempt_download_asset(file) at call time",
        "import", "bundled weights by bare name (yolov8n-hornet.pt)",
        lambda: _missing("ultralytics.utils.downloads:attempt_download_asset", "file"), hook_bundled_weights,
    ),
    Patch(
        "yaml_model_load", "ultralytics.nn.tasks.yaml_model_load (+ modules importing it)", "semi-public",
        "model YAML paths are read by yaml_model_load(path); the scale comes from guess_model_scale(path)",
        "import", "scaled YAML names in folders named like run2s",
        lambda: _missing("ultralytics.nn.tasks:yaml_model_load", "path") or _missing(
            "ultralytics.nn.tasks:guess_model_scale"), hook_yaml_paths,
    ),
    Patch(
        "generate_ddp_file", "ultralytics.utils.dist.generate_ddp_file", "semi-public",
        "returns the path of a worker script with a 'sys.path =' or '__main__' line (checked per run: clear error)",
        "import", "multi-GPU (DDP) training of HorNet models",
        lambda: _missing("ultralytics.utils.dist:generate_ddp_file", "trainer"), hook_ddp,
    ),
    Patch(
        "build_optimizer", "ultralytics.engine.trainer.BaseTrainer.build_optimizer", "semi-public",
        "param groups carry weight_decay and lr; one zero-decay non-bias group per lr (param_group 'bn' or unnamed)",
        "import", "the official HorNet weight-decay recipe",
        lambda: _missing("ultralytics.engine.trainer:BaseTrainer.build_optimizer", "model", "name", "lr", "decay"),
        hook_optimizer, _check_optimizer,  # (the probe builds an optimizer: 1.4 s of torch imports, not at import)
    ),
    Patch(
        "safe_globals", "torch.serialization.add_safe_globals", "public",
        "torch's weights_only unpickler (and ultralytics' restricted loader) accepts classes registered there",
        "import", "restricted loading of HorNet checkpoints",
        lambda: _missing("torch.serialization:add_safe_globals"), allow_our_classes,
    ),
    Patch(
        "safe_load_switch", "ultralytics.nn.tasks._SafeLoad, SAFE_LOAD", "private",
        "ultralytics loads with weights_only inside _SafeLoad.loading(weight) when SAFE_LOAD is set (8.4.130+)",
        "commands", "ultralytics' own loads (YOLO(path), resume) restricted in our commands",
        _check_safe_load_switch,
    ),
    Patch(
        "task_map", "ultralytics.engine.model.Model.task_map (+ trainer=)", "public",
        "every task's trainer class is model.task_map[task]['trainer'], and Model.train takes trainer=",
        "commands", "crash-safe checkpoints (SafeTrainer) for every task",
        lambda: _missing("ultralytics.engine.model:Model.task_map") or _missing(
            "ultralytics.engine.model:Model.train", "trainer"),
    ),
    Patch(
        "save_model", "ultralytics.engine.trainer.BaseTrainer.save_model", "semi-public",
        "save_model writes last.pt/best.pt/epochN.pt at trainer.last/best/wdir (checked after every save)",
        "commands", "atomic checkpoint writes",
        lambda: _missing("ultralytics.engine.trainer:BaseTrainer.save_model"),
    ),
    Patch(
        "strip_optimizer", "ultralytics.engine.trainer.strip_optimizer", "semi-public",
        "final_eval strips last.pt/best.pt through the module global strip_optimizer(f, s, updates)",
        "commands", "atomic optimizer strip at the end of training",
        lambda: _missing("ultralytics.engine.trainer:strip_optimizer", "f", "s", "updates"),
    ),
    Patch(
        "calibrate_checkpoint", "ultralytics.models.yolo.depth.calibrate.calibrate_checkpoint", "semi-public",
        "depth training's final_eval re-saves best.pt/last.pt in place via calibrate_checkpoint(ckpt_path, ...), "
        "looked up in its module at call time (no depth task: nothing to do)",
        "commands", "atomic depth calibration of best.pt/last.pt", _check_depth_calibration, hook_depth_calibration,
    ),
    Patch(
        "check_font", "check_font in ultralytics.utils.checks/.plotting, ultralytics.data.utils", "semi-public",
        "plots get their font through check_font(font)",
        "commands", "plots without downloading Arial.ttf", lambda: _missing("ultralytics.utils.checks:check_font"),
        hook_offline_font,
    ),
    Patch(
        "check_amp", "ultralytics.utils.checks.check_amp (+ engine.trainer)", "semi-public",
        "the trainer calls check_amp(model) on GPU, which downloads yolo26n.pt when missing",
        "commands", "GPU training without the AMP-check download", lambda: _missing(
            "ultralytics.utils.checks:check_amp", "model"), hook_offline_amp,
    ),
    Patch(
        "openvino_consent", "openvino_telemetry OptInChecker.check", "semi-public",
        "OpenVINO's converter asks OptInChecker.check() before it sends analytics",
        "commands", "OpenVINO export without analytics", _check_openvino, hook_openvino_consent,
    ),
    Patch(
        "argv", "sys.argv as ultralytics.utils.ARGV (ultralytics.cfg.entrypoint)", "private",
        "entrypoint() reads the command line from ultralytics.utils.ARGV, the same list object as sys.argv",
        "commands", "yolo-hornet's own arguments (trust_weights=)", _check_argv,
    ),
)  # fmt: skip
STATUS: dict[str, str] = {}  # row name -> "ok" | "off: <why>" (rows checked so far)


def apply_patches(scope: str) -> dict[str, str]:
    """Check and apply every row of ``scope`` not yet done; warn once per row whose check fails. Returns STATUS."""
    for row in PATCHES:
        if row.scope != scope or row.name in STATUS:
            continue
        try:
            reason = row.check()
        except Exception as e:  # noqa: BLE001  (a check that cannot run is a failed check)
            reason = f"its check failed: {type(e).__name__}: {e}"
        if reason is None:
            row.apply()
            STATUS[row.name] = "ok"
            continue
        STATUS[row.name] = f"off: {reason}"
        warnings.warn(
            f"yolo_hornet: {row.feature} is off with ultralytics {ultralytics.__version__} ({row.name}: {reason})",
            RuntimeWarning,
            stacklevel=2,
        )
    return STATUS


def register() -> None:
    """Register our YAML modules with the installed ultralytics (idempotent): every row of scope ``import``."""
    check_ultralytics_version()
    apply_patches("import")
