"""Make our modules usable in YAMLs of the installed, unmodified ultralytics.

Ultralytics resolves a YAML module name in the namespace of ``ultralytics.nn.tasks`` and gives channel inference and
width/depth scaling only to the modules listed in two sets local to ``parse_model``. :func:`register` therefore

1. puts our classes into that namespace under their YAML names;
2. compiles, in memory, a copy of the installed ``parse_model`` whose ``base_modules`` set also holds our modules
   (c1 inferred from the input layer, c2 = ``make_divisible(min(c2, max_channels) * width, 8)``) and whose
   ``repeat_modules`` set also holds ``C3HB``/``C2fHB`` (depth-scaled repeats passed inside, like ``C3``/``C2f``);
3. wraps it so that a ``HorNet`` row's depths are depth-scaled and the ``Index`` rows that read it get the scaled
   stage widths.

It also hooks ``BaseModel.fuse`` so that predict/val/export fold our layers too (:mod:`yolo_hornet.fuse`), and
ultralytics' ``check_file`` so that our ready YAMLs and ``digitscenes.yaml`` resolve by bare name from any folder.
No file of the installed ultralytics is touched; calling :func:`register` again does nothing.
"""

from __future__ import annotations

import ast
import functools
import inspect
import shutil
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import ultralytics
from packaging.version import Version
from ultralytics.nn import tasks
from ultralytics.utils.ops import make_divisible

from .csp_blocks import C3HB, C2fHB
from .gnconv import gnConv
from .horblock import HorBlock
from .horfpn import HorFPN
from .hornet import HorNetBackbone

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

    Args:
        d (dict): A model dict as passed to ``parse_model`` (modified in place and returned).
    """
    depth, width, max_channels = _scales(d)
    rows = d.get("backbone", []) + d.get("head", [])
    base_of = {}
    for i, (f, _, m, args) in enumerate(rows):
        if m in HORNET_ROWS:
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
    """Path of what a bare ``name`` means in this package: a ready YAML, the bundled ``yolov8n-hornet.pt`` or
    ``digitscenes.yaml``; None otherwise.

    ``digitscenes.yaml`` is the bundled DigitScenes split (300 train / 100 val at 320 px, seed 0), written on first
    use into ultralytics' datasets folder, as ultralytics does for ``coco8.yaml``.
    """
    from .cli.resolve import BUNDLED_WEIGHTS, CFG_DIR

    if (CFG_DIR / name).is_file():
        return str(CFG_DIR / name)
    if name == BUNDLED_WEIGHTS.name:
        return str(BUNDLED_WEIGHTS)
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
            if not Path(name).exists() and Path(name).name == name and name.endswith(".pt") and bundled_file(name):
                # like ultralytics' download of official weights: a copy lands in the working folder (so exports
                # are written there, not into the installed package); an existing file of that name is used as is
                shutil.copyfile(bundled_file(name), name)
                return name
            return original(file, *args, **kwargs)

        return attempt_download_asset

    wrap_once(downloads, "attempt_download_asset", make_fetch)  # YOLO("x.pt"): torch_safe_load imports it per call


def register() -> None:
    """Register our YAML modules with the installed ultralytics (idempotent)."""
    check_ultralytics_version()
    for name, cls in YAML_MODULES.items():
        setattr(tasks, name, cls)
    hook_fuse()
    hook_names()
    from .ddp import hook_ddp

    hook_ddp()

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
