"""Bundled data: the DigitScenes generator and the demo video maker."""

from .digitscenes import DigitScenes, make_demo_video, write_dataset

__all__ = ["DigitScenes", "make_demo_video", "write_dataset"]
