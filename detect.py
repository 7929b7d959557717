"""Run detection with a YOLO model with HorNet modules (YOLOv5 flags). See ``python detect.py --help``."""

import sys

from yolo_hornet.cli.detect import main

if __name__ == "__main__":
    sys.exit(main())
