"""train.py --hyp: any ultralytics key, including the ones a flag owns (an earlier run's args.yaml works as --hyp);
a flag given on the command line wins; run identity always comes from the command; bad files are one error line."""

import pytest
import yaml
from test_cli_errors import assert_clean_error, run

from yolo_hornet.cli.train import main as train_main
from yolo_hornet.data.digitscenes import write_dataset


def test_args_yaml_of_another_run_as_hyp(tmp_path, capsys):
    data = write_dataset(tmp_path / "ds", train=4, val=2, imgsz=64, seed=3)
    hyp = tmp_path / "args.yaml"  # what ultralytics writes next to a run: every key, some owned by our flags
    hyp.write_text(yaml.safe_dump(dict(
        task="detect", mode="train", model="elsewhere.yaml", data="elsewhere/data.yaml", project="/elsewhere",
        name="other", optimizer="SGD", lr0=0.02, epochs=5, imgsz=64, batch=2, workers=0, save=True, plots=False,
        patience=7, seed=4, device=None, mosaic=0.0)))  # fmt: skip
    project = tmp_path / "runs"
    argv = ["--cfg", "yolov8n-hornet.yaml", "--data", str(data), "--hyp", str(hyp), "--epochs", "1"]
    rc, err = run(train_main, argv, capsys, project)
    assert rc == 0, err
    used = yaml.safe_load((project / "exp" / "args.yaml").read_text())
    assert (used["optimizer"], used["lr0"], used["mosaic"], used["patience"], used["seed"]) == ("SGD", 0.02, 0.0, 7, 4)
    assert (used["imgsz"], used["batch"], used["workers"], used["plots"]) == (64, 2, 0, False)
    assert used["epochs"] == 1  # the flag given wins over the file's 5
    assert used["data"] == str(data) and used["project"] == str(project) and used["name"] == "exp"
    warning = next(line for line in err if line.startswith("warning: --hyp keys not used"))
    for key in ("data", "model", "name", "project", "task", "mode", "epochs (the command line says 1)"):
        assert key in warning, warning
    assert not (tmp_path / "elsewhere").exists()


HYP_CASES = {
    "not-a-mapping": ("- lr0\n- 0.01\n", "must be a mapping"),
    "bad-yaml": ("lr0: [0.01\n", "not valid YAML"),
    "epochs-text": ("epochs: many\n", "epochs must be a whole number"),
    "batch-float": ("batch: 2.5\n", "batch must be a whole number"),
}


@pytest.mark.parametrize("case", sorted(HYP_CASES))
def test_bad_hyp_files(case, tmp_path, capsys):
    text, needle = HYP_CASES[case]
    hyp = tmp_path / "hyp.yaml"
    hyp.write_text(text)
    project = tmp_path / "runs"
    rc, err = run(train_main, ["--cfg", "yolov8n-hornet.yaml", "--hyp", str(hyp)], capsys, project)
    assert_clean_error(rc, err, project, "--hyp", needle)
