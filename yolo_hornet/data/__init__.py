"""DigitScenes: real OpenCV digits on real photos, for every YOLO task (loaded on first use, so that
``python -m yolo_hornet.data.digitscenes`` runs without a double import)."""

__all__ = ["DigitScenes", "make_demo_video", "write_dataset"]


def __getattr__(name: str):
    if name in __all__:
        from . import digitscenes

        return getattr(digitscenes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
