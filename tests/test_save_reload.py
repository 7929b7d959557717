"""Models with HorNet modules saved by ultralytics reload in a fresh process (importing only ultralytics)."""

import subprocess
import sys

import pytest
import torch
from conftest import YAML_DIR, make_alive_
from ultralytics import YOLO

import yolo_hornet  # noqa: F401

CHILD = """
import sys, torch
from ultralytics import YOLO
model = YOLO(sys.argv[1])
net = model.model.float().eval()
x = torch.load(sys.argv[2])
with torch.no_grad():
    torch.save(net(x)[0], sys.argv[3])
print(type(net.model[{row}]).__module__)
"""


@pytest.mark.parametrize("name,row", [("yolov8n-hornet.yaml", 6), ("yolov8n-hornet-backbone.yaml", 0)])
def test_saved_model_reloads_in_fresh_process(tmp_path, name, row):
    model = YOLO(str(YAML_DIR / name))
    make_alive_(model.model)
    path = tmp_path / "model.pt"
    model.save(path)
    x = torch.rand(1, 3, 160, 192)
    torch.save(x, tmp_path / "x.pt")
    here = YOLO(str(path)).model.float().eval()
    with torch.no_grad():
        expected = here(x)[0]
        original = model.model.eval()(x)[0]
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(row=row))
    out = subprocess.run(
        [sys.executable, str(script), str(path), str(tmp_path / "x.pt"), str(tmp_path / "y.pt")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().startswith("yolo_hornet."), out.stdout
    assert "pip install" not in out.stderr and "AutoUpdate" not in out.stderr
    got = torch.load(tmp_path / "y.pt")
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert (got - original).abs().max() < 0.05 * original.abs().max()  # fp16 storage only
