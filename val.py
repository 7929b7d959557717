"""Validate a YOLO model with HorNet modules (YOLOv5 flags). See ``python val.py --help``."""

import sys

from yolo_hornet.cli.val import main

if __name__ == "__main__":
    sys.exit(main())
