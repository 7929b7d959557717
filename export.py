"""Export a YOLO model with HorNet modules (YOLOv5 flags). See ``python export.py --help``."""

import sys

from yolo_hornet.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
