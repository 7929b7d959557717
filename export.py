"""Export a YOLO model with HorNet modules (YOLOv5 flags). See ``python export.py --help``."""

import sys

import yolo_hornet_cli

if __name__ == "__main__":
    sys.exit(yolo_hornet_cli.export())
