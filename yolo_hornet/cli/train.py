"""train.py: YOLOv5-style training command on the ultralytics engine, with HorNet modules registered.

python train.py                                  # fine-tune bundled yolov8n-hornet on bundled DigitScenes
python train.py --cfg yolov5s-hornet.yaml --data their.yaml --epochs 100 --img 640
python train.py --cfg yolov8l-hornet-backbone.yaml --weights hornet_tiny_7x7.pth --data their.yaml
python train.py --cfg yolo26n-seg-hornet.yaml --data digitscenes-seg/data.yaml    # any task: the head decides
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import yaml

from yolo_hornet.paths import BUNDLED_WEIGHTS

from .common import add_model_flags, add_run_flags, command_parser, run_command
from .errors import UserError, run_cli
from .faults import run_training
from .resolve import (
    check_device,
    check_weights_file,
    check_writable,
    open_model,
    resolve_cfg,
    resolve_data,
    round_imgsz,
)
from .resume import check_resumable, find_resumable
from .runs import check_name, reserve_run
from .tasks import check_task_data, make_data_hint
from .transfer import transfer_report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """YOLOv5 train.py flags."""
    p = command_parser(
        "train.py",
        "Train a YOLO model (HorNet modules available) with the ultralytics engine. With no arguments: "
        "fine-tune the bundled yolov8n-hornet on the bundled DigitScenes for 3 epochs at 320 px.",
    )
    p.add_argument(
        "--weights",
        default="",
        help="initial weights: .pt saved by ultralytics, a HorNet ImageNet .pth, or a name such as hornet_tiny_7x7 "
        "(downloaded once, verified, cached)",
    )
    p.add_argument("--cfg", default="", help="model YAML: path, our name with scale (yolov5s-hornet.yaml) or stock")
    p.add_argument("--data", default="", help="dataset YAML (default: bundled DigitScenes)")
    p.add_argument("--hyp", default="", help="hyperparameter YAML (ultralytics keys: lr0, momentum, mosaic, ...)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 3 on bundled data, else 100)")
    p.add_argument("--batch-size", type=int, default=16, help="batch size (-1 for autobatch on GPU)")
    add_model_flags(p, imgsz="image size (default: 320 on bundled data, else 640)")
    p.add_argument("--rect", action="store_true", help="rectangular training")
    p.add_argument("--resume", nargs="?", const=True, default=False, help="resume most recent or given last.pt")
    p.add_argument("--nosave", action="store_true", help="only save the final checkpoint")
    p.add_argument("--noval", action="store_true", help="only validate after the final epoch")
    p.add_argument("--noplots", action="store_true", help="save no plot files")
    p.add_argument("--cache", nargs="?", const="ram", default=False, help="cache images in ram (default) or disk")
    p.add_argument("--single-cls", action="store_true", help="train multi-class data as single-class")
    p.add_argument("--optimizer", default="auto", choices=["SGD", "Adam", "AdamW", "auto"], help="optimizer")
    p.add_argument("--workers", type=int, default=8, help="max dataloader workers")
    add_run_flags(p, "runs/train")
    p.add_argument("--cos-lr", action="store_true", help="cosine LR scheduler")
    p.add_argument("--patience", type=int, default=100, help="EarlyStopping patience (epochs without improvement)")
    p.add_argument(
        "--freeze",
        nargs="+",
        default=None,
        help="freeze first N layers, or layer indices; 'hornet' freezes the whole HorNet backbone row, 'hornet:K' "
        "its stem and first K stages",
    )
    p.add_argument("--save-period", type=int, default=-1, help="save checkpoint every x epochs (disabled if < 1)")
    p.add_argument("--seed", type=int, default=0, help="global training seed")
    return p.parse_args(argv)


# train() settings our flags own -> the flag's attribute; a --hyp YAML may set them only where the flag is left at
# its default (so an ultralytics args.yaml works as --hyp), and a flag given on the command line wins.
FLAG_KEYS = {"epochs": "epochs", "batch": "batch_size", "imgsz": "imgsz", "rect": "rect", "save": "nosave",
             "val": "noval", "plots": "noplots", "cache": "cache", "device": "device", "single_cls": "single_cls",
             "optimizer": "optimizer", "workers": "workers", "cos_lr": "cos_lr", "patience": "patience",
             "freeze": "freeze", "save_period": "save_period", "seed": "seed"}  # fmt: skip
NEGATED = {"nosave", "noval", "noplots"}  # save: true in the YAML is --nosave left off
INTEGERS = {"epochs", "batch_size", "imgsz", "workers", "patience", "save_period", "seed"}
RUN_KEYS = {"task", "mode", "model", "data", "project", "name", "exist_ok", "save_dir", "resume", "trainer"}


def apply_hyp(opt: argparse.Namespace) -> dict:
    """Read ``--hyp``; move the keys our flags own onto ``opt``; return the other ultralytics keys.

    Run identity (data, model, project, name, ...) always comes from the command; a key a flag owns comes from
    the YAML only where that flag was not given. Each key left out is named in one warning line.
    """
    if not opt.hyp:
        return {}
    path = Path(opt.hyp)
    if not path.is_file():
        raise UserError(f"--hyp '{opt.hyp}' not found")
    try:
        hyp = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"--hyp '{opt.hyp}' is not valid YAML ({type(e).__name__})") from None
    if not isinstance(hyp, dict):
        raise UserError(f"--hyp '{opt.hyp}' must be a mapping of ultralytics keys (lr0: 0.01, ...)")
    from ultralytics.cfg import DEFAULT_CFG_DICT

    defaults = vars(parse_args([]))
    ignored = sorted(k for k in hyp if k in RUN_KEYS or k not in DEFAULT_CFG_DICT)
    for key, attr in FLAG_KEYS.items():
        if key not in hyp:
            continue
        value = flag_value(attr, hyp.pop(key), opt.hyp, key)
        if getattr(opt, attr) == defaults[attr]:
            setattr(opt, attr, value)
        elif getattr(opt, attr) != value:
            ignored.append(f"{key} (the command line says {getattr(opt, attr)!r})")
    if ignored:
        print(f"warning: --hyp keys not used, ignored: {', '.join(map(str, ignored))}", file=sys.stderr)
    return {k: v for k, v in hyp.items() if k in DEFAULT_CFG_DICT and k not in RUN_KEYS}


def flag_value(attr: str, value, hyp_file: str, key: str):
    """A --hyp YAML value in the form the flag ``attr`` holds it (or :class:`UserError`)."""
    if attr in INTEGERS and (isinstance(value, bool) or not isinstance(value, int)):
        raise UserError(f"--hyp '{hyp_file}': {key} must be a whole number, got {value!r}")
    if attr in NEGATED:
        return not value
    if attr == "device":
        return "" if value is None else str(value)
    if attr == "freeze" and value is not None:
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    return value


def build_model(opt: argparse.Namespace):
    """Create the ``ultralytics.YOLO`` model from --cfg/--weights (transferring what matches)."""
    import yolo_hornet
    from yolo_hornet.pretrained import PretrainedWeightsError, preset_of, pretrained_file

    if opt.weights and not Path(opt.weights).exists() and preset_of(opt.weights):  # hornet_tiny_7x7: by name
        try:
            opt.weights = str(pretrained_file(opt.weights))
        except PretrainedWeightsError as e:
            raise UserError(str(e)) from e
    official = check_weights_file(opt.weights, opt.trust_weights) if opt.weights else None
    if opt.cfg:
        try:
            model = open_model(resolve_cfg(opt.cfg))  # the task follows the head
        except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as e:
            raise UserError(f"cannot build --cfg '{opt.cfg}': {type(e).__name__}: {e}") from e
        if official is not None:
            try:
                backbone = yolo_hornet.load_official_weights(model, official)  # (training starts from them)
            except ValueError as e:
                raise UserError(f"--weights '{opt.weights}' does not fit --cfg '{opt.cfg}': {e}") from e
            print(f"loaded HorNet ImageNet weights {opt.weights} into row {getattr(backbone, 'i', 0)} of --cfg")
        elif opt.weights:
            model.load(opt.weights)  # every tensor whose name and shape match (ultralytics)
        return model
    if official is not None:
        raise UserError("an official HorNet .pth holds only a backbone: add --cfg, e.g. yolov8l-hornet-backbone.yaml")
    return open_model(opt.weights or str(BUNDLED_WEIGHTS))


def report_transfer(model, opt: argparse.Namespace, data: str) -> None:
    """Print which rows of --cfg a --weights checkpoint fills, for the model the trainer builds (the data's classes)."""
    source = model.ckpt.get("ema") or model.ckpt.get("model")
    if not isinstance(source, torch.nn.Module) or model.task == "classify":
        return
    names = (yaml.safe_load(Path(data).read_text()) or {}).get("names") or {}
    trained = type(model.model)(model.model.yaml, nc=len(names) or None, verbose=False)
    print(f"--weights {opt.weights} -> --cfg {opt.cfg} ({len(names)} classes):\n{transfer_report(trained, source)}")


def resolve_freeze(values: list[str] | None, model) -> int | list | None:
    """``--freeze`` for ultralytics: ``N`` (first N rows), row indices, ``hornet`` (the HorNet row) or ``hornet:K``
    (its stem and first K stages, as ``row.downsample_layers.j`` / ``row.stages.j`` name prefixes)."""
    if not values:
        return None
    out: list[int | str] = []
    for value in values:
        name, _, k = value.partition(":")
        if value.lstrip("-").isdigit():
            out.append(int(value))
            continue
        if name != "hornet" or (k and not (k.isdigit() and 1 <= int(k) <= 4)):
            raise UserError(f"--freeze {value}: give layer numbers, 'hornet' or 'hornet:K' with K in 1..4")
        from yolo_hornet.official_weights import find_hornet

        try:
            row = getattr(find_hornet(model.model), "i", 0)
        except ValueError as e:
            raise UserError(f"--freeze {value}: this model has no HorNet backbone row") from e
        stages = int(k) if k else 4
        out += (
            [row] if not k else [f"{row}.{part}.{j}" for j in range(stages) for part in ("downsample_layers", "stages")]
        )
    # a single number N means "the first N rows" (ultralytics' int); 'hornet' gives the row's index in a list, so
    # that a HorNet row 0 is frozen rather than read as "freeze 0 rows"
    return out[0] if len(values) == 1 and values[0].lstrip("-").isdigit() else out


def resume(opt: argparse.Namespace, project: Path):
    """``--resume [PATH]``: continue a run in its own folder from the epoch after its ``last.pt``."""
    from .safe_trainer import safe_trainer

    if isinstance(opt.resume, str):
        target = Path(opt.resume)
        check_resumable(target, opt.trust_weights)
    else:
        target = find_resumable(project, opt.trust_weights)
    target = target.resolve()
    model = open_model(str(target))
    kwargs = dict(resume=str(target), save_dir=str(target.parent.parent), trainer=safe_trainer(model.task, model))
    return run_training(lambda: model.train(**kwargs), lambda: model.trainer, run=None)


def train(argv: list[str] | None = None, **overrides):
    """Run training; ``argv`` as on the command line. Returns the ultralytics trainer metrics (or None)."""
    return run_command(parse_args, train_with, argv, overrides)


def train_with(opt: argparse.Namespace):
    """``train()`` after parsing, inside restricted loading."""
    project = Path(opt.project).resolve()
    check_writable(project)
    if opt.resume:
        return resume(opt, project)
    check_name(opt.name)
    bundled = not opt.data
    data = resolve_data(opt.data)
    hyp = apply_hyp(opt)
    epochs = opt.epochs if opt.epochs is not None else (3 if bundled else 100)
    imgsz = opt.imgsz if opt.imgsz is not None else (320 if bundled else 640)
    if epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {epochs}")
    if opt.batch_size == 0 or opt.batch_size < -1:
        raise UserError(f"--batch-size must be a positive number (or -1 for autobatch), got {opt.batch_size}")
    imgsz = round_imgsz(imgsz)
    check_device(opt.device)
    model = build_model(opt)
    if bundled and model.task != "detect":
        raise UserError(
            f"a {model.task} model needs --data: the bundled DigitScenes split is for detection; "
            f"{make_data_hint(model.task)}"
        )
    data = check_task_data(data, model.task)
    if opt.cfg and opt.weights and Path(opt.weights).suffix == ".pt":
        report_transfer(model, opt, data)
    args = dict(
        data=data,
        epochs=epochs,
        batch=opt.batch_size,
        imgsz=imgsz,
        rect=opt.rect,
        save=not opt.nosave,
        val=not opt.noval,
        plots=not opt.noplots,
        cache=opt.cache,
        device=opt.device or None,
        single_cls=opt.single_cls,
        optimizer=opt.optimizer,
        workers=opt.workers,
        exist_ok=True,
        cos_lr=opt.cos_lr,
        patience=opt.patience,
        freeze=resolve_freeze(opt.freeze, model),
        save_period=opt.save_period,
        seed=opt.seed,
        **hyp,
    )
    from .safe_trainer import safe_trainer

    run = reserve_run(project, opt.name, opt.exist_ok)
    args.update(project=str(run.path.parent), name=run.path.name, trainer=safe_trainer(model.task, model))
    return run_training(lambda: model.train(**args), lambda: model.trainer, run)


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(train, argv)


if __name__ == "__main__":
    sys.exit(main())
