"""``yolo-hornet``: ultralytics' ``yolo`` command with the HorNet modules registered (same syntax, every mode).

    yolo-hornet train model=yolov8s-hornet.yaml data=their.yaml epochs=100
    yolo-hornet val model=runs/detect/train/weights/best.pt data=their.yaml
    yolo-hornet predict model=best.pt source=video.mp4
    yolo-hornet export model=best.pt format=onnx
    yolo-hornet track model=best.pt source=video.mp4
    yolo-hornet doctor          # versions, every ultralytics patch row (ok / off and why), features on

Checkpoints are loaded with restricted unpickling (model classes and tensors only); add ``trust_weights=True`` to
load a file you trust in full. Errors print one ``error: ...`` line and exit with code 2.
"""

from __future__ import annotations

import sys

from .errors import UserError, run_cli

TRUST = "trust_weights"


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


def yolo(argv: list[str] | None = None) -> None:
    """Run ``yolo <mode> key=value ...`` (``argv`` without the program name; default: the command line)."""
    from ultralytics.cfg import entrypoint

    from yolo_hornet.ultralytics_glue import cli_offline_policy, command_line, restricted_loading

    cli_offline_policy()

    args, trust = split_trust(sys.argv[1:] if argv is None else list(argv))
    if args[:1] == ["doctor"]:
        from .doctor import doctor

        return doctor()
    try:
        with command_line(["yolo-hornet", *args]), restricted_loading(not trust):
            entrypoint()
    except (SyntaxError, FileNotFoundError, ValueError, TypeError, KeyError, ModuleNotFoundError) as e:
        raise UserError(f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}") from e


def main(argv: list[str] | None = None) -> int:
    """Console entry point."""
    return run_cli(yolo, argv)


if __name__ == "__main__":
    sys.exit(main())
