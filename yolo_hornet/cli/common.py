"""What the four YOLOv5-style scripts share: the help format, the flags they all take, and the one opening every
command runs (our commands' offline policy, parse, overrides, checks, restricted loading)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in the help, except where the help text already says what the default is."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        return text if "default" in text else super()._get_help_string(action)


def command_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ``argparse`` parser with our help format."""
    return argparse.ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter)


def add_run_flags(p: argparse.ArgumentParser, project: str) -> None:
    """``--project``, ``--name``, ``--exist-ok``: where the run's folder goes (YOLOv5 naming: exp, exp2, ...)."""
    p.add_argument("--project", default=project, help="save to project/name")
    p.add_argument("--name", default="exp", help="save to project/name")
    p.add_argument("--exist-ok", action="store_true", help="reuse project/name if it exists (nothing is deleted)")


def add_model_flags(
    p: argparse.ArgumentParser, imgsz: str = "image size (default: training)", device: str = ""
) -> None:
    """``--imgsz``, ``--device`` and ``--trust-weights``."""
    p.add_argument("--imgsz", "--img", "--img-size", type=int, default=None, help=imgsz)
    p.add_argument("--device", default=device, help="cuda device, i.e. 0 or 0,1 or cpu")
    p.add_argument(
        "--trust-weights",
        action="store_true",
        help="fully unpickle the model files given (only for files you trust: a pickle can run code); by default "
        "only model classes and tensors are loaded",
    )


def run_command(
    parse_args: Callable[[list[str] | None], argparse.Namespace],
    body: Callable[[argparse.Namespace], object],
    argv: list[str] | None = None,
    overrides: dict | None = None,
    check: Callable[[argparse.Namespace], None] | None = None,
):
    """The opening of every script: the offline policy of our commands, parse ``argv``, apply ``overrides`` (the
    Python API's keywords), ``check`` the options, then ``body(opt)`` with every checkpoint ultralytics loads
    restricted unless ``--trust-weights``, and SIGTERM stopping it as Ctrl-C does (exit 143 instead of 130)."""
    from yolo_hornet.ultralytics_glue import cli_offline_policy, restricted_loading

    from .faults import sigterm_interrupts

    cli_offline_policy()
    opt = parse_args(argv)
    for key, value in (overrides or {}).items():
        setattr(opt, key, value)
    if check is not None:
        check(opt)
    with sigterm_interrupts(), restricted_loading(not opt.trust_weights):
        return body(opt)
