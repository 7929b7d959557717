"""Train a YOLO model with HorNet modules (YOLOv5 flags). See ``python train.py --help``."""

import sys

from yolo_hornet.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
