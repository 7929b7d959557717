"""``yolo-hornet``: ultralytics' ``yolo`` command with the HorNet modules registered (same syntax, every mode), with
the same guarantees as ``train.py``/``detect.py``/``val.py``/``export.py``.

Before ultralytics runs, the arguments that name things are checked as the scripts check them (``model=``: our
names, bundled weights, restricted loading; ``data=``: a file or ``digitscenes.yaml``; ``source=``; ``device=``), so a
mistake is one ``error: ...`` line, exit 2. A fault while ultralytics runs is one line too, and a run folder that
this invocation created and that a failed run left half made (``args.yaml``, an empty ``weights/``) is removed.
Ctrl-C exits 130, SIGTERM 143.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .errors import UserError, run_cli

TRUST = "trust_weights"
HELP = """usage: yolo-hornet [TASK] MODE key=value ... [trust_weights=True]
       yolo-hornet doctor | help

ultralytics' `yolo` command with the HorNet modules (gnConv, HorBlock, C3HB, C2fHB, HorNet, HorFPN) registered.
MODE: train, val, predict, export, track, benchmark. TASK (optional): detect, segment, pose, obb, classify, ...
Names that work from any folder, offline: every ready YAML at any scale (yolov8s-hornet.yaml, yolo11n-hornet.yaml,
yolo26n-seg-hornet.yaml, ...), the bundled weights yolov8n-hornet.pt and yolov8n-seg-hornet.pt, and the bundled
dataset digitscenes.yaml.

Without model=, the bundled yolov8n-hornet.pt is used, and train/val without data= use digitscenes.yaml (ultralytics'
own defaults, yolo26n.pt and coco8.yaml, are downloads).

Examples (offline):
  yolo-hornet train model=yolov8n-hornet.yaml data=digitscenes.yaml epochs=3 imgsz=320
  yolo-hornet val model=yolov8n-hornet.pt data=digitscenes.yaml imgsz=320
  yolo-hornet predict model=yolov8n-hornet.pt source=path/to/images
  yolo-hornet export model=yolov8n-hornet.pt format=onnx
  yolo-hornet doctor          # versions and every ultralytics patch row: ok / off and why (for bug reports)

Checkpoints are loaded with restricted unpickling (model classes and tensors only); trust_weights=True loads a
file you trust in full. A mistake or a fault is one `error: ...` line (exit 2); a run folder left without a
checkpoint by a failed run is removed. All keys: https://docs.ultralytics.com/usage/cfg (`yolo-hornet cfg`)."""


def split_trust(args: list[str]) -> tuple[list[str], bool]:
    """Remove our ``trust_weights=...`` argument (ultralytics does not know it); return the rest and its value."""
    rest, trust = [], False
    for arg in args:
        key, _, value = arg.partition("=")
        if key == TRUST:
            trust = value.strip().lower() in {"", "1", "true", "yes"}
        else:
            rest.append(arg)
    return rest, trust


def as_key(error: UserError, flag: str, key: str) -> UserError:
    """The scripts' message about ``--flag`` in this command's words (``key=``)."""
    text = str(error).replace(f"{flag} '", f"{key}='").replace(f"{flag} ", f"{key}=")
    return UserError(text.replace("add --trust-weights", f"add {TRUST}=True"))


MODEL_MODES = {"train", "val", "predict", "track", "export", "benchmark"}
MODES_WITH_DATA = {"train", "val"}


def resuming(args: list[str]) -> bool:
    """True when the arguments ask to resume (``resume``, ``resume=True``, ``resume=path``)."""
    return any(a.partition("=")[0] == "resume" and a.partition("=")[2].lower() not in {"false", "0"} for a in args)


def with_defaults(args: list[str]) -> list[str]:
    """Our offline defaults where the user gave none: ``model=yolov8n-hornet.pt`` (ultralytics' default,
    ``yolo26n.pt``, is a download) and, for train and val, ``data=digitscenes.yaml`` (``coco8.yaml`` is one too)."""
    keys = {a.partition("=")[0] for a in args if "=" in a}
    modes = {a for a in args if "=" not in a}
    if not modes & MODEL_MODES:  # settings, cfg, checks, version, ...: ultralytics' own special commands
        return args
    if resuming(args) and "model" not in keys:
        raise UserError("resume=True needs model=path/to/last.pt of the run to continue")
    extra = [] if "model" in keys or "cfg" in keys else ["model=yolov8n-hornet.pt"]
    if modes & MODES_WITH_DATA and "data" not in keys and "resume" not in keys:
        extra.append("data=digitscenes.yaml")
    return [*args, *extra]


def check_arguments(args: list[str], trust: bool) -> list[str]:
    """Check what ``model=``, ``data=``, ``source=`` and ``device=`` name; return the arguments with bundled names
    made absolute paths. Raises :class:`UserError`."""
    from yolo_hornet.bundled import bundled_file

    from .resolve import check_device, is_exported, load_checkpoint_file, resolve_data
    from .resume import check_resumable
    from .sources import check_source

    resume = resuming(args)
    out, task = [], None
    for arg in args:
        key, eq, value = arg.partition("=")
        if eq and key == "model" and value.endswith((".yaml", ".yml")):
            task = yaml_task(value)
        elif eq and key == "model" and value.endswith((".pt", ".pth")) and not is_exported(value):
            path = Path(value)
            if path.exists() or bundled_file(path.name) and path.name == value:
                try:
                    task = checkpoint_task(load_checkpoint_file(value, "model=", trust))  # restricted unless trust
                    if resume:
                        check_resumable(path, trust)
                except UserError as e:
                    raise as_key(as_key(e, "model=", "model"), "--resume", "resume=True: model") from e
            elif path.name != value or not official_asset(value):
                raise UserError(f"model='{value}' not found; give a .pt file, yolov8n-hornet.pt or a ready YAML")
        elif eq and key == "data" and value.endswith((".yaml", ".yml")):
            try:
                arg = f"data={resolve_data(value)}"  # as the scripts: absolute, digitscenes.yaml by name
            except UserError as e:
                if not stock_dataset(value):  # (coco8.yaml and the like: ultralytics downloads them)
                    raise as_key(e, "--data", "data") from e
        elif eq and key == "source" and value:
            try:
                check_source(value)
            except UserError as e:
                raise as_key(e, "--source", "source") from e
        elif eq and key == "device" and value:
            try:
                check_device(value)
            except UserError as e:
                raise as_key(e, "--device", "device") from e
        out.append(arg)
    return check_data_fits(out, task)


def yaml_task(cfg: str) -> str | None:
    """The task of a model YAML (ours by name, ultralytics' stock names, a user's file); None if it cannot be read."""
    from ultralytics.nn.tasks import guess_model_task, yaml_model_load

    from .resolve import resolve_cfg

    try:
        return guess_model_task(yaml_model_load(resolve_cfg(cfg)))
    except Exception:  # noqa: BLE001  (ultralytics reports a bad YAML itself, with its own message)
        return None


def checkpoint_task(ckpt) -> str | None:
    """The task of a loaded ultralytics checkpoint (None for anything else)."""
    import torch
    from ultralytics.nn.tasks import guess_model_task

    model = (ckpt.get("ema") or ckpt.get("model")) if isinstance(ckpt, dict) else None
    return guess_model_task(model) if isinstance(model, torch.nn.Module) else None


def check_data_fits(args: list[str], task: str | None) -> list[str]:
    """For train and val: check that ``data=`` (a file we can read) suits the model's task, as the scripts do, so
    that a semantic model with a detection set is one error line before any folder is made."""
    from .tasks import check_task_data

    values = dict(a.partition("=")[::2] for a in args if "=" in a)
    task = values.get("task") or task
    data = values.get("data", "")
    if task and {a for a in args if "=" not in a} & MODES_WITH_DATA and (Path(data).is_file() or task == "classify"):
        split = values.get("split", "val")
        try:
            check_task_data(data, task, ("train", "val") if "train" in args else (split,))
        except UserError as e:
            raise as_key(e, "--data", "data") from e
    return args


def official_asset(name: str) -> bool:
    """True for a weights name ultralytics downloads itself (``yolo26n.pt``; it needs the network once)."""
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES

    return name in GITHUB_ASSETS_NAMES


def stock_dataset(name: str) -> bool:
    """True for a dataset name ultralytics ships a YAML for (``coco8.yaml``); it downloads the images itself."""
    from ultralytics.utils.checks import check_yaml

    return Path(name).name == name and bool(check_yaml(name, hard=False))


def run_folders(args: list[str]) -> tuple[Path, set[Path] | None]:
    """The folder runs go to (``project=``, else ultralytics' runs_dir) and the folders in it now (None: no root)."""
    from ultralytics.utils import RUNS_DIR

    project = next((a.partition("=")[2] for a in args if a.startswith("project=")), "")
    root = Path(project or RUNS_DIR).resolve()
    return root, set(root.glob("*")) | set(root.glob("*/*")) if root.is_dir() else None


def half_made(folder: Path) -> bool:
    """True for a run folder holding nothing but ultralytics' ``args.yaml`` and empty folders (``weights/``)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return all(p == folder / "args.yaml" for p in files)


def remove_half_made_runs(root: Path, before: set[Path] | None) -> None:
    """Remove the folders created since ``before`` that a failed run left half made (never one with results)."""
    if not root.is_dir():
        return
    new = (set(root.glob("*")) | set(root.glob("*/*"))) - (before or set())
    for folder in sorted(new, key=lambda p: -len(p.parts)):  # runs/detect/train before runs/detect
        if folder.is_dir() and half_made(folder):
            shutil.rmtree(folder, ignore_errors=True)
    if before is None and not any(root.iterdir()):
        root.rmdir()  # the runs folder itself, made by this failed run


def yolo(argv: list[str] | None = None) -> None:
    """Run ``yolo <mode> key=value ...`` (``argv`` without the program name; default: the command line)."""
    args, trust = split_trust(sys.argv[1:] if argv is None else list(argv))
    if not args or args[0] in {"help", "-h", "--help"}:
        print(HELP)
        return
    from ultralytics.cfg import entrypoint

    from yolo_hornet.ultralytics_glue import cli_offline_policy, command_line, restricted_loading

    from .faults import sigterm_interrupts
    from .resolve import first_sentence

    cli_offline_policy()
    if args[:1] == ["doctor"]:
        from .doctor import doctor

        doctor()
        return
    args = check_arguments(with_defaults(args), trust)
    root, before = run_folders(args)
    try:
        with sigterm_interrupts(), command_line(["yolo-hornet", *args]), restricted_loading(not trust):
            entrypoint()
    except (KeyboardInterrupt, Exception) as e:
        remove_half_made_runs(root, before)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise UserError(f"{type(e).__name__}: {first_sentence(str(e), 300) or 'no message'}") from e


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(yolo, argv)


if __name__ == "__main__":
    sys.exit(main())
