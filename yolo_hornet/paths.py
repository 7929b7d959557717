"""Where the package's own files live: the ready YAMLs, the bundled weights, demo video and data assets.

The one module that knows these paths (no ultralytics import, no side effects). ``REPO`` is the checkout when the
package runs from one; ``CHECKOUT_DATA`` exists only there.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CFG_DIR = PACKAGE / "cfg"  # the ready YAMLs (linked as models/yaml in the checkout)
ASSETS = PACKAGE / "assets"
WEIGHTS_DIR = ASSETS / "weights"  # bundled .pt files, also loadable by bare name
BUNDLED_WEIGHTS = WEIGHTS_DIR / "yolov8n-hornet.pt"  # the default model of train.py/detect.py
DEMO_VIDEO = ASSETS / "demo" / "digits_demo.mp4"
REPO = PACKAGE.parent
CHECKOUT_DATA = REPO / "data" / "digitscenes" / "data.yaml"
