"""DDP state round trip on CPU (as ultralytics' workers rebuild the trainer), AMP safety, offline AMP check."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO, make_alive_

from yolo_hornet import GlobalLocalFilter, HorBlock, gnConv
from yolo_hornet.data.digitscenes import write_dataset

WORKER = """
import sys, torch
from ultralytics.utils import DEFAULT_CFG_DICT
from ultralytics.utils.patches import torch_load
state = torch_load(sys.argv[1], map_location="cpu")
cfg = DEFAULT_CFG_DICT.copy()
cfg.update(save_dir="")
trainer = state["trainer"](cfg=cfg, overrides=state["args"], _callbacks=state["callbacks"])
trainer.model = state["model"]
net = trainer.model.eval()
with torch.no_grad():
    torch.save(net(torch.load(sys.argv[2]))[0], sys.argv[3])
print("registered" if "yolo_hornet" in sys.modules else "not-registered", type(net.model[6]).__name__)
"""


@pytest.mark.parametrize("how", [pytest.param("train.py", marks=pytest.mark.slow), "python-api-yaml"])
def test_ddp_state_rebuilds_in_fresh_worker(tmp_path, how):
    from ultralytics import YOLO
    from ultralytics.utils import dist

    from yolo_hornet.ultralytics_glue import cli_offline_policy, local_font, materialize_model

    cli_offline_policy()  # as train.py does; the generated worker script then applies it too

    from yolo_hornet.cli.resolve import resolve_cfg

    data = write_dataset(tmp_path / "ds", train=4, val=2, imgsz=64)
    cfg = resolve_cfg("yolov8n-hornet.yaml") if how == "train.py" else str(REPO / "models/yaml/yolov8n-hornet.yaml")
    model = YOLO(cfg)
    args = dict(model=cfg, data=str(data), epochs=1, imgsz=64, device="cpu", project=str(tmp_path), name="ddp")
    trainer = model._smart_load("trainer")(overrides=args, _callbacks=model.callbacks)
    assert isinstance(trainer.model, str)  # what ultralytics hands to its DDP launcher for a YAML start
    materialize_model(trainer)  # what the wrapper does first, here so that the module it sends can be made live
    make_alive_(trainer.model)
    script = dist.generate_ddp_file(trainer)  # ultralytics' own function (wrapped by yolo_hornet)
    state = Path(script).with_suffix(".pt")
    try:
        assert "import yolo_hornet" in Path(script).read_text() and "cli_offline_policy()" in Path(script).read_text()
        x = torch.rand(1, 3, 64, 96)
        torch.save(x, tmp_path / "x.pt")
        with torch.no_grad():
            expected = trainer.model.eval()(x)[0]
        worker = tmp_path / "worker.py"
        worker.write_text(WORKER)
        config = tmp_path / "worker-config"  # an ultralytics-only worker: give it its font, so it downloads none
        (config / "Ultralytics").mkdir(parents=True)
        shutil.copy(local_font(), config / "Ultralytics" / "Arial.ttf")
        out = subprocess.run(
            [sys.executable, str(worker), str(state), str(tmp_path / "x.pt"), str(tmp_path / "y.pt")],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "YOLO_CONFIG_DIR": str(config)},
        )
        assert out.returncode == 0, out.stderr[-3000:]
        assert out.stdout.split()[-2:] == ["registered", "C2fHB"]
        assert torch.allclose(torch.load(tmp_path / "y.pt"), expected, atol=1e-5)
    finally:
        Path(script).unlink(missing_ok=True)
        state.unlink(missing_ok=True)


@pytest.mark.parametrize("module", ["gnconv", "horblock-gf"])
def test_bf16_autocast_close_to_fp32(module):
    torch.manual_seed(0)
    m = {"gnconv": lambda: gnConv(64, order=4), "horblock-gf": lambda: HorBlock(64, order=3, gf=True)}[module]()
    make_alive_(m)  # layer scales ~N(0, 0.5): the block's branches, not its skip, dominate what is compared
    m.eval()
    x = torch.randn(2, 64, 20, 24)
    with torch.no_grad():
        ref = m(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = m(x)
    assert torch.isfinite(low).all()
    rel = (low.float() - ref).norm() / ref.norm()
    assert rel < 0.03, rel  # bf16 has ~3 significant digits


def test_gf_fft_forced_to_float32_under_autocast(monkeypatch):
    seen = []
    real = torch.fft.rfft2

    def spy(x, *a, **k):
        seen.append(x.dtype)
        return real(x, *a, **k)

    monkeypatch.setattr(torch.fft, "rfft2", spy)
    m = GlobalLocalFilter(16, h=8, w=5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        m(torch.randn(1, 16, 8, 8).bfloat16())
    assert seen == [torch.float32]


def test_cli_amp_check_skips_its_download(tmp_path, monkeypatch):
    """Under our commands the AMP check never downloads yolo26n.pt (ultralytics' own check would try github.com)."""
    import types

    import ultralytics.utils

    from yolo_hornet.ultralytics_glue import offline_amp_check

    def original(model):
        raise AssertionError("the downloading check must not run")

    class OnCuda:
        def parameters(self):
            yield types.SimpleNamespace(device=torch.device("cuda", 0))

    monkeypatch.setattr(ultralytics.utils, "WEIGHTS_DIR", tmp_path)
    assert offline_amp_check(original)(OnCuda()) is True  # AMP stays on, as ultralytics decides offline
    assert offline_amp_check(lambda m: "ran")(torch.nn.Conv2d(3, 3, 1)) == "ran"  # CPU: ultralytics' own answer


def test_import_has_no_side_effects(tmp_path):
    code = (
        "import os, ultralytics.utils.checks as c, ultralytics.utils.plotting as p\n"
        "font, amp, env = c.check_font, c.check_amp, dict(os.environ)\n"
        "import yolo_hornet, ultralytics.engine.trainer as t\n"
        "assert c.check_font is font and p.check_font is font and c.check_amp is amp and t.check_amp is amp\n"
        "assert dict(os.environ) == env, set(os.environ) ^ set(env)\n"
        "print('clean')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "YOLO_AUTOINSTALL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.stdout.strip() == "clean", out.stderr[-2000:]


def test_cli_policy_plots_with_a_local_font():
    import ultralytics.utils.plotting as plotting

    from yolo_hornet.ultralytics_glue import cli_offline_policy

    cli_offline_policy()
    font = plotting.check_font("Arial.Unicode.ttf")
    assert Path(font).is_file() and os.environ["YOLO_AUTOINSTALL"] == "false"
