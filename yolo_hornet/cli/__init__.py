"""Command-line tools, importable for notebooks: ``from yolo_hornet.cli import train, detect``."""

from .detect import detect
from .export import export
from .train import train
from .val import val

__all__ = ["detect", "export", "train", "val"]
