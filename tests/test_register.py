"""Registration with the installed ultralytics: idempotent, leaves its files unchanged, version check."""

import hashlib
import subprocess
import sys
import warnings
from pathlib import Path

import ultralytics
from conftest import YAML_DIR

import yolo_hornet
from yolo_hornet import ultralytics_glue as reg


def test_register_twice_is_harmless():
    from ultralytics import YOLO
    from ultralytics.nn import tasks

    first = tasks.parse_model
    yolo_hornet.register()
    yolo_hornet.register()
    assert tasks.parse_model is first
    a = sum(p.numel() for p in YOLO(str(YAML_DIR / "yolov8n-hornet.yaml")).model.parameters())
    b = sum(p.numel() for p in YOLO(str(YAML_DIR / "yolov8n-hornet.yaml")).model.parameters())
    assert a == b


def test_names_resolvable_in_tasks_namespace():
    from ultralytics.nn import tasks

    for name in ["gnConv", "HorBlock", "C3HB", "C2fHB", "HorNet", "HorFPN"]:
        assert getattr(tasks, name) is reg.YAML_MODULES[name]


def test_stock_models_unchanged():
    from ultralytics import YOLO

    n = sum(p.numel() for p in YOLO("yolov8n.yaml").model.parameters())
    assert n == 3157200  # ultralytics' own figure in its yolov8.yaml


def _hash_tree(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_installed_ultralytics_files_unchanged(tmp_path):
    root = Path(ultralytics.__file__).parent
    before = _hash_tree(root)
    code = (
        "import yolo_hornet; from ultralytics import YOLO; "
        f"YOLO(r'{YAML_DIR / 'yolov8n-hornet.yaml'}').model.info(); print('built')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "built" in out.stdout, out.stderr[-2000:]
    assert _hash_tree(root) == before


def test_version_outside_range_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert reg.check_ultralytics_version("8.3.99") is False
        assert reg.check_ultralytics_version("8.3.253") is True
        assert reg.check_ultralytics_version("8.4.190") is True
        assert reg.check_ultralytics_version("8.4.191") is False
    assert len(caught) == 2 and all("ultralytics 8.3.253 to 8.4.190" in str(c.message) for c in caught)
