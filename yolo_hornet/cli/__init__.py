"""Command-line tools, importable for notebooks: ``from yolo_hornet.cli import train, detect``."""

from .detect import detect
from .train import train

__all__ = ["detect", "train"]
