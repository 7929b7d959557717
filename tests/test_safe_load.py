"""Restricted loading: every model our YAMLs build saves and loads with weights_only (no code from the file runs)."""

import pickle

import pytest
import torch
from conftest import DETECT_YAMLS, scale_n_cfg
from ultralytics import YOLO

import yolo_hornet  # noqa: F401
from yolo_hornet.safe_load import UnsafeCheckpointError, refused_global, safe_load
from yolo_hornet.ultralytics_glue import restricted_loading


@pytest.mark.parametrize("name", [*DETECT_YAMLS, "gf"])
def test_every_yaml_round_trips_through_restricted_loading(tmp_path, name):
    torch.manual_seed(0)
    model = YOLO(str(scale_n_cfg(tmp_path, name)))  # "gf": GlobalLocalFilter must be on the allow-list too
    path = tmp_path / "model.pt"
    model.save(path)
    ckpt = safe_load(path)  # raises UnsafeCheckpointError if any class of the model is missing from the list
    assert type(ckpt["model"]).__name__ == "DetectionModel"
    with restricted_loading():
        reloaded = YOLO(str(path))
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        want = model.model.float().eval()(x)[0]
        got = reloaded.model.float().eval()(x)[0]
    assert torch.allclose(want, got, atol=1e-3), (want - got).abs().max()


def test_refused_global_is_named(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never print",))

    path = tmp_path / "p.pt"
    torch.save({"x": Payload()}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_load(path)
    assert info.value.name in {"print", "builtins.print"}  # torch shortens builtins
    assert refused_global(pickle.UnpicklingError("no global named here")) == "?"
