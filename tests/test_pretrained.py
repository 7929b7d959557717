"""Weights by name over HTTP (a loopback server, 127.0.0.1 only), checksum and cache; preset backbone rows; the
official weight-decay recipe in ultralytics' optimizer; a preset-row YAML trained from named weights by train.py."""

from __future__ import annotations

import hashlib
import http.server
import threading
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from conftest import PRESET_YAMLS, YAML_DIR, scale_n_cfg
from reference_hornet import mmpretrain_layout, randomize_
from ultralytics import YOLO
from ultralytics.utils import SETTINGS

import yolo_hornet
import yolo_hornet.pretrained as pretrained
from yolo_hornet import HorNet, hornet, load_official_weights, official_state_dict
from yolo_hornet.cli.train import main as train_main
from yolo_hornet.hornet import PRESETS, HorNetPreset

MINI = dict(base_dim=16, depths=(1, 1, 2, 1))


class Server:
    """A static file server on 127.0.0.1 that counts the GET requests per path."""

    def __init__(self, root: Path):
        self.root, self.hits = root, {}
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):  # noqa: N802
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/weights"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A HorNet-mini checkpoint in mmpretrain's layout, served from a loopback mirror, with its registry entry."""
    torch.manual_seed(0)
    source = HorNet(**MINI).eval()
    randomize_(source, seed=4)
    (tmp_path / "served" / "weights").mkdir(parents=True)
    staging = tmp_path / "ckpt.pth"
    torch.save(mmpretrain_layout(official_state_dict(source)["model"]), staging)
    sha = hashlib.sha256(staging.read_bytes()).hexdigest()
    name = f"hornet-mini_3rdparty_in1k_20260101-{sha[:8]}.pth"
    staging.rename(tmp_path / "served" / "weights" / name)
    server = Server(tmp_path / "served")
    monkeypatch.setitem(PRESETS, "mini_7x7", MINI)
    monkeypatch.setitem(pretrained.WEIGHTS, "mini_7x7", name)
    monkeypatch.setenv(pretrained.MIRROR_ENV, server.url)
    cache = tmp_path / "cache"
    monkeypatch.setattr(pretrained, "cache_dir", lambda: cache)
    yield SimpleNamespace(source=source, name=name, server=server, cache=cache, path=f"/weights/{name}")
    server.close()


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_named_weights_download_once_then_cache(mirror):
    model = hornet("mini_7x7", pretrained=True)
    assert same_weights(model, mirror.source)
    assert mirror.server.hits == {mirror.path: 1}
    assert sorted(p.name for p in mirror.cache.iterdir()) == [mirror.name]  # nothing else (no .part file)
    other = HorNet(**MINI)
    load_official_weights(other, "hornet_mini_7x7")  # by name: the cached file, verified, no second download
    assert same_weights(other, mirror.source)
    assert mirror.server.hits == {mirror.path: 1}


def test_corrupt_file_from_mirror_leaves_nothing(mirror, tmp_path):
    served = tmp_path / "served" / "weights" / mirror.name
    served.write_bytes(served.read_bytes()[:-10] + b"0123456789")  # same name, other bytes
    with pytest.raises(pretrained.PretrainedWeightsError, match="expected it to start with") as info:
        pretrained.pretrained_file("hornet_mini_7x7", progress=False)
    assert mirror.server.url in str(info.value)
    assert not mirror.cache.exists() or not any(mirror.cache.iterdir())


def test_damaged_cached_file_is_reported_not_used(mirror):
    mirror.cache.mkdir()
    (mirror.cache / mirror.name).write_bytes(b"not a checkpoint")  # e.g. a manual download that went wrong
    with pytest.raises(pretrained.PretrainedWeightsError, match="delete it and ask again"):
        pretrained.pretrained_file("mini_7x7", progress=False)
    assert mirror.server.hits == {}
    assert (mirror.cache / mirror.name).read_bytes() == b"not a checkpoint"  # the user's file is left alone


def test_http_error_and_closed_port(mirror, monkeypatch):
    monkeypatch.setitem(pretrained.WEIGHTS, "mini_7x7", "hornet-missing_in1k-0123abcd.pth")
    with pytest.raises(pretrained.PretrainedWeightsError) as info:
        pretrained.pretrained_file("mini_7x7", progress=False)
    text = str(info.value)
    assert "HTTP 404" in text and f"{mirror.server.url}/hornet-missing_in1k-0123abcd.pth" in text
    assert str(mirror.cache / "hornet-missing_in1k-0123abcd.pth") in text  # where a manual download goes
    monkeypatch.setenv(pretrained.MIRROR_ENV, "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(pretrained.PretrainedWeightsError, match="cannot download hornet_mini_7x7 from http://127"):
        pretrained.pretrained_file("mini_7x7", progress=False)
    assert not mirror.cache.exists() or not any(mirror.cache.iterdir())  # nothing left (the folder we made: gone)


def test_offline_names_the_official_url_and_the_cache_path(monkeypatch, tmp_path):
    monkeypatch.delenv(pretrained.MIRROR_ENV, raising=False)
    monkeypatch.setattr(pretrained, "cache_dir", lambda: tmp_path / "cache")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(pretrained.urllib.request, "urlopen", offline)  # no socket is opened at all
    with pytest.raises(pretrained.PretrainedWeightsError) as info:
        hornet("tiny_7x7", pretrained=True)
    text = str(info.value)
    file_name = "hornet-tiny_3rdparty_in1k_20220915-0e8eedff.pth"  # mmpretrain's, from its metafile
    assert f"https://download.openmmlab.com/mmclassification/v0/hornet/{file_name}" in text
    assert str(tmp_path / "cache" / file_name) in text
    assert "Temporary failure in name resolution" in text
    assert not (tmp_path / "cache").exists()  # the failed first download took its new folder away again


def test_registry_names_and_cache_folder():
    assert pretrained.cache_dir().is_absolute() and pretrained.cache_dir().name == "hornet"
    for preset, file_name in pretrained.WEIGHTS.items():
        assert preset in PRESETS and len(pretrained.expected_hash(file_name)) == 8
        assert pretrained.preset_of(f"hornet_{preset}") == pretrained.preset_of(f"{preset}.pth") == preset
    assert pretrained.preset_of("hornet_large_7x7") is None  # not hosted by mmpretrain: path only
    with pytest.raises(pretrained.PretrainedWeightsError, match="available: hornet_tiny_7x7"):
        pretrained.pretrained_file("hornet_huge")


@pytest.mark.parametrize("scale", ["n", "l"])
def test_preset_row_is_the_official_layout_at_every_scale(scale, tmp_path):
    model = YOLO(f"yolov8{scale}-hornet-tiny.yaml").model
    backbone = model.model[0]
    assert type(backbone) is HorNetPreset and backbone.dims == [64, 128, 256, 512]
    assert [len(s) for s in backbone.stages] == [2, 3, 18, 2]
    assert [model.model[i].index for i in (1, 2, 3)] == [1, 2, 3]
    assert model.model[4].cv1.conv.in_channels == 512  # SPPF after Index(3) gets the preset's width
    official = hornet("tiny_7x7")
    randomize_(official, seed=1)
    path = tmp_path / "hornet_tiny_7x7.pth"
    torch.save(official_state_dict(official, num_classes=1000), path)  # official release format
    load_official_weights(model, str(path))
    assert same_weights(backbone, official)


def test_preset_row_with_typo_names_the_presets(tmp_path):
    d = yaml.safe_load((YAML_DIR / "yolov8-hornet-tiny.yaml").read_text())
    d["backbone"][0][3] = ["tiny_7x8"]
    cfg = tmp_path / "yolov8n-bad.yaml"
    cfg.write_text(yaml.safe_dump(d))
    with pytest.raises(ValueError, match="unknown HorNet preset 'tiny_7x8'; choose one of base_7x7"):
        YOLO(str(cfg))


def test_optimizer_follows_the_official_decay_recipe():
    from ultralytics.engine.trainer import BaseTrainer

    model = YOLO("yolov8n-hornet-backbone.yaml").model
    fake = SimpleNamespace(args=SimpleNamespace(lr0=0.01, warmup_bias_lr=0.1, optimizer="AdamW"), data={"nc": 80})
    opt = BaseTrainer.build_optimizer(fake, model, name="AdamW", lr=0.001, momentum=0.9, decay=5e-4)
    decay_of = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert len(decay_of) == sum(1 for _ in model.parameters())  # every parameter once
    names = dict(model.named_parameters())
    gammas = [k for k in names if k.endswith(("gamma1", "gamma2"))]
    norms = [k for k in names if ".norm" in k or "downsample_layers.0.1" in k]
    filters = [k for k in names if k.endswith("complex_weight")]
    assert gammas and norms
    assert all(decay_of[id(names[k])] == 0 for k in gammas + norms)
    assert all(decay_of[id(names[k])] == 5e-4 for k in filters)  # 4-D: decayed, as in the official recipe
    convs = [k for k in names if k.endswith("pwconv1.weight") or k.endswith("proj_in.weight")]
    assert convs and all(decay_of[id(names[k])] == 5e-4 for k in convs)
    yolo_hornet.ultralytics_glue.undo_hornet_recipe(opt)  # resuming a run saved before the recipe
    assert all(decay_of_after == 5e-4 for decay_of_after in
               ({id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}[id(names[k])]
                for k in gammas))  # fmt: skip


@pytest.mark.slow
def test_train_preset_yaml_at_scale_s_from_named_weights(mirror, tmp_path, capsys):
    from yolo_hornet.data.digitscenes import write_dataset

    data = write_dataset(tmp_path / "ds", train=4, val=2, imgsz=64, seed=3)
    d = yaml.safe_load((YAML_DIR / "yolov8-hornet-tiny.yaml").read_text())
    d["backbone"][0][3] = ["mini_7x7"]
    cfg = tmp_path / "yolov8s-hornet-mini.yaml"
    cfg.write_text(yaml.safe_dump(d))
    argv = ["--cfg", str(cfg), "--weights", "hornet_mini_7x7", "--data", str(data), "--epochs", "1", "--img", "64"]
    argv += ["--batch-size", "2", "--workers", "0", "--freeze", "hornet:2", "--project", str(tmp_path / "runs")]
    assert train_main(argv) == 0
    out = capsys.readouterr()
    assert "ImageNet weights" in out.out and "row 0" in out.out, out.out[-2000:]
    assert mirror.server.hits == {mirror.path: 1}
    ckpt = torch.load(tmp_path / "runs" / "exp" / "weights" / "last.pt", weights_only=False)
    want, got = mirror.source.state_dict(), (ckpt["ema"] or ckpt["model"]).model[0].float().state_dict()
    first_two = ("downsample_layers.0.", "downsample_layers.1.", "stages.0.", "stages.1.")
    frozen = [k for k in want if k.startswith(first_two)]
    want = {k: v.half().float() for k, v in want.items()}  # (checkpoints hold fp16)
    assert frozen and all(torch.equal(got[k], want[k]) for k in frozen)  # --freeze hornet:2: stem, stages 1-2
    assert any(not torch.equal(got[k], want[k]) for k in want if k.startswith("stages.2."))  # stage 3 trained


def test_train_named_weights_offline_is_one_error(mirror, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(pretrained.MIRROR_ENV, "http://127.0.0.1:9")
    argv = ["--cfg", "yolov8n-hornet-tiny.yaml", "--weights", "hornet_mini_7x7", "--project", str(tmp_path / "r")]
    assert train_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: cannot download hornet_mini_7x7 from http://127.0.0.1:9/")
    assert str(mirror.cache / mirror.name) in err[-1]
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


@pytest.mark.parametrize("name", PRESET_YAMLS)
def test_preset_yamls_fuse_and_load_safely(name, tmp_path):
    from yolo_hornet.safe_load import safe_load

    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))
    net = model.model
    randomize_(net.model[0], seed=2)
    path = tmp_path / "m.pt"
    model.save(path)
    assert type(safe_load(path)["model"].model[0]) is HorNetPreset  # the allow-list knows the preset row
    net.eval()
    if getattr(net.model[-1], "one2one_cv2", None) is not None:
        net.end2end = True  # YOLO26: fusing keeps the one-to-one branch only
    x = torch.rand(1, 3, 96, 128)
    with torch.no_grad():
        ref = net(x)[0]
        net.fuse()
        got = net(x)[0]
    assert (got - ref).abs().max().item() <= 1e-4 * max(1.0, ref.abs().max().item())


def test_cache_is_one_absolute_folder_whatever_the_working_folder(tmp_path, monkeypatch):
    """ultralytics' default weights_dir is the relative 'weights': the cache must not follow the working folder."""
    monkeypatch.delenv(pretrained.CACHE_ENV, raising=False)
    monkeypatch.setitem(SETTINGS, "weights_dir", "weights")
    seen = set()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        seen.add(pretrained.cache_dir())
    (cache,) = seen
    assert cache.is_absolute() and tmp_path not in cache.parents
    monkeypatch.setitem(SETTINGS, "weights_dir", str(tmp_path / "w"))
    assert pretrained.cache_dir() == tmp_path / "w" / "hornet"
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "mine"))
    assert pretrained.cache_dir() == tmp_path / "mine"


def test_failed_first_download_leaves_no_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "cache" / "hornet"))
    monkeypatch.setenv(pretrained.MIRROR_ENV, "http://127.0.0.1:9/")  # nothing listens on the discard port
    with pytest.raises(pretrained.PretrainedWeightsError, match=str(tmp_path / "cache" / "hornet")):
        pretrained.pretrained_file("hornet_tiny_7x7", progress=False)
    assert not (tmp_path / "cache" / "hornet").exists()
