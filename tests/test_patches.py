"""The patch table: every ultralytics touch point is one declared row whose check holds on the installed
ultralytics, and whose check fails (naming the broken assumption) when that assumption is broken on purpose.

``test_row_holds[<row>]`` is the one named test an ultralytics upgrade turns red for that row;
``test_row_detects_breakage[<row>]`` breaks exactly that row's assumption with a test double.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
import warnings

import pytest
import torch
from ultralytics.nn import tasks

import yolo_hornet  # noqa: F401  (registers)
from yolo_hornet import ultralytics_glue as glue

ROWS = {row.name: row for row in glue.PATCHES}


def test_every_row_is_declared_once_with_a_scope_and_access():
    assert len(ROWS) == len(glue.PATCHES) >= 15
    for row in glue.PATCHES:
        assert row.scope in {"import", "commands"} and row.access in {"public", "semi-public", "private"}
        assert row.assumption and row.feature and row.target


@pytest.mark.parametrize("name", sorted(ROWS))
def test_row_holds(name):
    assert ROWS[name].full_check() is None


USED_IN_PLACE = {"safe_load_switch", "task_map", "save_model", "strip_optimizer", "argv"}  # read where they are used


def test_every_other_row_applies_something():
    """A row that replaces something has a named hook (a row whose apply is the empty default does nothing)."""
    for row in glue.PATCHES:
        assert (row.apply.__name__ == "<lambda>") == (row.name in USED_IN_PLACE), row.name


@pytest.mark.parametrize(
    "module, name",
    [("ultralytics.nn.tasks", "parse_model"), ("ultralytics.nn.tasks", "yaml_model_load"),
     ("ultralytics.utils.checks", "check_file"), ("ultralytics.utils.downloads", "attempt_download_asset"),
     ("ultralytics.utils.dist", "generate_ddp_file")],
)  # fmt: skip
def test_import_rows_are_in_place(module, name):
    assert getattr(getattr(sys.modules[module], name), "_yolo_hornet", False), f"{module}.{name} is not wrapped"


def _unwrapped(obj):
    return getattr(obj, "__wrapped__", obj)


def _no_source(monkeypatch):
    def getsource(obj):
        raise OSError("could not get source code")

    monkeypatch.setattr(inspect, "getsource", getsource)


def _parse_model_without_sets(monkeypatch):
    def parse_model(d, ch, verbose=True):
        m = globals()["x"]  # noqa: F841  (resolves names as ultralytics does, but has no module sets)

    monkeypatch.setattr(tasks, "parse_model", parse_model)


def _drop(monkeypatch, owner, name):
    monkeypatch.delattr(owner, name)


def _rename_bn_group(monkeypatch):
    """ultralytics renames its no-decay group and gives every group a name: the recipe has nowhere to move to."""
    from ultralytics.engine.trainer import BaseTrainer

    build = _unwrapped(BaseTrainer.build_optimizer)

    def renamed(self, model, *args, **kwargs):
        optimizer = build(self, model, *args, **kwargs)
        for i, g in enumerate(optimizer.param_groups):
            g["param_group"] = {"bn": "norm"}.get(g.get("param_group"), g.get("param_group") or f"g{i}")
        return optimizer

    monkeypatch.setattr(BaseTrainer, "build_optimizer", renamed)


def _signature_change(monkeypatch, module_name, attr, new):
    module = sys.modules[module_name]
    monkeypatch.setattr(module, attr, new)


BREAK = {
    "parse_model": lambda mp: _parse_model_without_sets(mp),
    "fuse": lambda mp: _drop(mp, tasks.BaseModel, "fuse"),
    "check_file": lambda mp: _signature_change(mp, "ultralytics.utils.checks", "check_file", lambda path: path),
    "attempt_download_asset": lambda mp: _signature_change(
        mp, "ultralytics.utils.downloads", "attempt_download_asset", lambda weights: weights
    ),
    "yaml_model_load": lambda mp: _drop(mp, tasks, "guess_model_scale"),
    "generate_ddp_file": lambda mp: _drop(mp, sys.modules["ultralytics.utils.dist"], "generate_ddp_file"),
    "build_optimizer": _rename_bn_group,
    "safe_globals": lambda mp: _drop(mp, torch.serialization, "add_safe_globals"),
    "safe_load_switch": lambda mp: _drop(mp, tasks, "_SafeLoad"),
    "task_map": lambda mp: _signature_change(
        mp, "ultralytics.engine.model", "Model", type("Model", (), {"train": lambda self, **kw: None})
    ),
    "save_model": lambda mp: _drop(mp, sys.modules["ultralytics.engine.trainer"].BaseTrainer, "save_model"),
    "strip_optimizer": lambda mp: _signature_change(
        mp, "ultralytics.engine.trainer", "strip_optimizer", lambda f, output="": None
    ),
    "check_font": lambda mp: _drop(mp, sys.modules["ultralytics.utils.checks"], "check_font"),
    "calibrate_checkpoint": lambda mp: _drop(
        mp, importlib.import_module("ultralytics.models.yolo.depth.calibrate"), "calibrate_checkpoint"
    ),
    "check_amp": lambda mp: _signature_change(mp, "ultralytics.utils.checks", "check_amp", lambda net: True),
    "openvino_consent": lambda mp: mp.setitem(sys.modules, "openvino_telemetry", None),
    "argv": lambda mp: mp.setattr(sys.modules["ultralytics.utils"], "ARGV", list(sys.argv)),
}


def test_every_row_has_a_breakage_double():
    assert set(BREAK) == set(ROWS)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_row_detects_breakage(name, monkeypatch):
    import importlib.util

    if name == "openvino_consent":  # the double hides the package: find_spec must say so
        monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if "openvino" in n else object())
    BREAK[name](monkeypatch)
    reason = ROWS[name].full_check()
    assert isinstance(reason, str) and reason, f"{name}: the broken assumption was not detected"
    others = [n for n in ROWS if n != name and ROWS[n].full_check() is not None]
    assert others == [], f"breaking {name} also failed {others}"  # exactly this row's check goes red


def test_parse_model_without_source_is_reported(monkeypatch):
    _no_source(monkeypatch)
    assert "source" in ROWS["parse_model"].check()


def test_failed_row_warns_once_and_is_not_applied(monkeypatch):
    applied = []
    row = glue.Patch("demo", "x.y", "private", "x has y", "commands", "the demo feature", lambda: "y is gone",
                     lambda: applied.append(1))  # fmt: skip
    monkeypatch.setattr(glue, "PATCHES", (row,))
    monkeypatch.setattr(glue, "STATUS", {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glue.apply_patches("commands")
        glue.apply_patches("commands")
    assert applied == [] and glue.STATUS["demo"] == "off: y is gone"
    assert (
        len(caught) == 1
        and "the demo feature is off" in str(caught[0].message)
        and "y is gone" in str(caught[0].message)
    )


def test_recipe_warns_when_it_moves_nothing(monkeypatch):
    """A model with our layers whose optimizer has no no-decay group: a warning, not silence."""
    from ultralytics.engine.trainer import BaseTrainer
    from ultralytics.utils import LOGGER

    from yolo_hornet import HorBlock

    _rename_bn_group(monkeypatch)  # ultralytics' optimizer as a future release might group it
    records = []
    monkeypatch.setattr(LOGGER, "warning", lambda msg, *a, **k: records.append(str(msg)))
    monkeypatch.setattr(glue, "wrap_once", lambda owner, name, make: setattr(owner, name, make(getattr(owner, name))))
    glue.hook_optimizer()  # our wrapper around the renamed build_optimizer (monkeypatch restores both)
    BaseTrainer.build_optimizer(types.SimpleNamespace(), HorBlock(8), name="SGD", lr=0.01, momentum=0.9, decay=5e-4)
    assert any("recipe found no no-decay group" in r for r in records), records


def test_ddp_script_without_anchor_is_a_clear_error(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text("print('a worker template without the expected lines')\n")
    with pytest.raises(RuntimeError, match="DDP worker script"):
        glue.add_ddp_import(str(script))


def test_every_module_importing_check_file_by_name_sees_the_wrapper():
    """A module that did ``from ultralytics.utils.checks import check_file`` keeps its own reference: each must be in
    CHECK_FILE_IMPORTERS (a new ultralytics release that adds one turns this test red)."""
    import importlib
    import re
    from pathlib import Path

    import ultralytics

    root = Path(ultralytics.__file__).parent
    pattern = re.compile(r"from ultralytics\.utils\.checks import \(?[^)]*?\bcheck_file\b", re.S)
    importers = {
        "ultralytics." + ".".join(f.relative_to(root).with_suffix("").parts)
        for f in root.rglob("*.py")
        if pattern.search(f.read_text(encoding="utf-8"))
    }
    assert importers and importers <= set(glue.CHECK_FILE_IMPORTERS), importers - set(glue.CHECK_FILE_IMPORTERS)
    wrapped = sys.modules["ultralytics.utils.checks"].check_file
    for name in importers:
        assert importlib.import_module(name).check_file is wrapped, name
