"""Every bad input to train.py / detect.py: one 'error: ...' line on stderr, exit code 2, no runs folder left."""

from pathlib import Path

import pytest
import torch
from conftest import REPO

from yolo_hornet.cli.detect import main as detect_main
from yolo_hornet.cli.train import main as train_main
from yolo_hornet.data.digitscenes import write_dataset

BUGGY = REPO / "data" / "videos" / "Megamind_bugy.avi"
DATA = REPO / "data" / "digitscenes" / "data.yaml"


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    """An ultralytics-format .pt of yolov8n-hornet with 10 classes (untrained)."""
    from ultralytics import YOLO

    path = tmp_path_factory.mktemp("w") / "tiny.pt"
    model = YOLO(str(REPO / "models" / "yaml" / "yolov8n-hornet.yaml"))
    model.model.nc = 10
    model.save(path)
    return path


def run(main, argv, capsys, project: Path):
    rc = main([*argv, "--project", str(project)])
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


def assert_clean_error(rc, err, project: Path, *needles: str):
    assert rc == 2, err
    assert err and err[-1].startswith("error: "), err
    assert "Traceback" not in "\n".join(err)
    for needle in needles:
        assert needle in err[-1], err[-1]
    assert not project.exists() or not any(project.iterdir()), list(project.iterdir())


TRAIN_CASES = {
    "unknown-cfg": (["--cfg", "yolov9z-nothing.yaml"], ["unknown --cfg"]),
    "epochs-0": (["--cfg", "yolov8n-hornet.yaml", "--epochs", "0"], ["--epochs must be at least 1"]),
    "epochs-neg": (["--cfg", "yolov8n-hornet.yaml", "--epochs", "-3"], ["--epochs"]),
    "batch-0": (["--cfg", "yolov8n-hornet.yaml", "--batch-size", "0"], ["--batch-size"]),
    "missing-data": (["--cfg", "yolov8n-hornet.yaml", "--data", "nope/data.yaml"], ["--data", "not found"]),
    "bad-device": (["--cfg", "yolov8n-hornet.yaml", "--device", "cuda:7"], ["--device", "not available"]),
    "resume-nothing": (["--resume"], ["nothing to resume"]),
    "missing-weights": (["--weights", "nope.pt"], ["not found"]),
}


@pytest.mark.parametrize("case", sorted(TRAIN_CASES))
def test_train_bad_inputs(case, capsys, tmp_path):
    argv, needles = TRAIN_CASES[case]
    project = tmp_path / "runs"
    rc, err = run(train_main, argv, capsys, project)
    assert_clean_error(rc, err, project, *needles)


def test_yaml_with_unknown_module(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    text = (
        (REPO / "models" / "yaml" / "yolov8-hornet.yaml").read_text().replace("C2fHB, [512, 3]", "NoSuchBlock, [512]")
    )
    cfg.write_text(text)
    rc, err = run(train_main, ["--cfg", str(cfg), "--epochs", "1"], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "NoSuchBlock")


@pytest.mark.parametrize(
    "row,needle",
    [("C2fHB, [512, 7]", "order must be an integer from 1 to 5"), ("gnConv, [90, 5]", "not divisible by 2**(order-1)")],
)
def test_yaml_with_bad_gnconv(tmp_path, capsys, row, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text((REPO / "models" / "yaml" / "yolov8-hornet.yaml").read_text().replace("C2fHB, [512, 3]", row))
    rc, err = run(train_main, ["--cfg", str(cfg), "--epochs", "1"], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", needle)


def test_data_pointing_at_missing_images(tmp_path, capsys):
    data = tmp_path / "data.yaml"
    data.write_text("train: images/train\nval: images/val\nnames: ['a']\n")
    rc, err = run(train_main, ["--cfg", "yolov8n-hornet.yaml", "--data", str(data)], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "images not found")


def test_empty_dataset(tmp_path, capsys):
    for split in ("train", "val"):
        (tmp_path / "images" / split).mkdir(parents=True)
    data = tmp_path / "data.yaml"
    data.write_text("train: images/train\nval: images/val\nnames: ['a']\n")
    rc, err = run(train_main, ["--cfg", "yolov8n-hornet.yaml", "--data", str(data)], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "empty dataset")


def test_corrupt_and_non_model_weights(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    adict = tmp_path / "dict.pt"
    torch.save({"epoch": 3, "lr": 0.1}, adict)
    for path, needle in ((corrupt, "not a readable PyTorch checkpoint"), (tensor, "holds no ultralytics model"),
                         (adict, "holds no ultralytics model")):  # fmt: skip
        rc, err = run(train_main, ["--weights", str(path)], capsys, tmp_path / "runs")
        assert_clean_error(rc, err, tmp_path / "runs", needle)
        rc, err = run(detect_main, ["--weights", str(path), "--source", str(BUGGY)], capsys, tmp_path / "runs")
        assert_clean_error(rc, err, tmp_path / "runs", needle)


def test_official_checkpoint_of_wrong_variant(tmp_path, capsys):
    import yolo_hornet

    pth = tmp_path / "hornet_tiny_gf.pth"
    torch.save(yolo_hornet.official_state_dict(yolo_hornet.hornet("tiny_gf"), num_classes=1000), pth)
    argv = ["--cfg", "yolov8l-hornet-backbone.yaml", "--weights", str(pth), "--data", str(DATA)]
    rc, err = run(train_main, argv, capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "does not fit --cfg", "missing key")


def test_unwritable_project(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("runs cannot be created below a file")
    for main in (train_main, detect_main):
        rc = main(["--project", str(blocker / "runs")])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and err[-1].startswith("error: --project") and "not writable" in err[-1]


DETECT_CASES = {
    "missing-source": (["--source", "nope/where.jpg"], ["not found"]),
    "conf-1.5": (["--conf-thres", "1.5"], ["--conf-thres"]),
    "classes-out-of-range": (["--classes", "99"], ["--classes", "out of range"]),
    "webcam-missing": (["--source", "7"], ["no webcam with index 7"]),
    "stream-unreachable": (["--source", "rtsp://127.0.0.1:9/live"], ["stream unreachable"]),
    "bad-device": (["--device", "cuda:7"], ["--device"]),
    "empty-glob": (["--source", "nowhere/*.jpg"], ["matches no files"]),
}


@pytest.mark.parametrize("case", sorted(DETECT_CASES))
def test_detect_bad_inputs(case, capsys, tmp_path, tiny_weights):
    argv, needles = DETECT_CASES[case]
    project = tmp_path / "runs"
    rc, err = run(detect_main, ["--weights", str(tiny_weights), *argv], capsys, project)
    assert_clean_error(rc, err, project, *needles)


def test_zero_byte_and_fake_mp4(tmp_path, capsys, tiny_weights):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video at all " * 100)
    for path, needle in ((empty, "empty file"), (fake, "not a readable video")):
        rc, err = run(detect_main, ["--weights", str(tiny_weights), "--source", str(path)], capsys, tmp_path / "r")
        assert_clean_error(rc, err, tmp_path / "r", needle)


def test_img_not_multiple_of_32_warns_and_rounds(tmp_path, capsys, tiny_weights):
    img = tmp_path / "scene.jpg"
    write_dataset(tmp_path / "ds", train=1, val=1, imgsz=96)
    img = next((tmp_path / "ds" / "images" / "val").glob("*.jpg"))
    rc = detect_main(["--weights", str(tiny_weights), "--source", str(img), "--img", "100", "--project", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 0
    assert "--imgsz 100 must be a multiple of 32, using 128" in captured.err


def test_view_img_without_display_says_so_and_saves(tmp_path, capsys, tiny_weights, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    write_dataset(tmp_path / "ds", train=1, val=2, imgsz=96)
    images = sorted((tmp_path / "ds" / "images" / "val").glob("*.jpg"))
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(str(p) for p in images) + "\n")
    argv = ["--weights", str(tiny_weights), "--source", str(listing), "--view-img", "--project", str(tmp_path / "r")]
    rc = detect_main(argv)
    err = capsys.readouterr().err
    assert rc == 0
    assert err.count("no display available") == 1
    assert len(list((tmp_path / "r" / "exp").glob("*.jpg"))) == 2


def test_detect_data_names_must_match_model(tmp_path, capsys, tiny_weights):
    data = tmp_path / "names.yaml"
    data.write_text("names: ['a', 'b']\n")
    argv = ["--weights", str(tiny_weights), "--source", str(BUGGY), "--data", str(data)]
    rc, err = run(detect_main, argv, capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "2 class names but the model has 80")


def test_detect_img_zero_is_an_error(capsys, tmp_path, tiny_weights):
    rc, err = run(detect_main, ["--weights", str(tiny_weights), "--source", str(BUGGY), "--img", "0"], capsys,
                  tmp_path / "runs")  # fmt: skip
    assert_clean_error(rc, err, tmp_path / "runs", "--imgsz must be at least 32, got 0")


def test_detect_with_an_imagenet_pth(capsys, tmp_path):
    import yolo_hornet

    pth = tmp_path / "hornet_tiny_7x7.pth"
    torch.save(yolo_hornet.official_state_dict(yolo_hornet.hornet("tiny_7x7"), num_classes=1000), pth)
    rc, err = run(detect_main, ["--weights", str(pth), "--source", str(BUGGY)], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "ImageNet .pth (a backbone, not a detector)", "train.py --cfg")


def test_hornet_negative_depth(tmp_path, capsys):
    cfg = tmp_path / "neg.yaml"
    text = (REPO / "models" / "yaml" / "yolov8-hornet-backbone.yaml").read_text()
    row = "HorNet, [64, [2, 3, 18, 2]"
    assert row in text
    cfg.write_text(text.replace(row, "HorNet, [64, [2, -3, 18, 2]"))
    rc, err = run(train_main, ["--cfg", str(cfg), "--epochs", "1"], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "depths must be whole numbers >= 0")


def test_labels_all_out_of_range(tmp_path, capsys):
    data = write_dataset(tmp_path / "ds", train=4, val=2, imgsz=64)
    for label in (tmp_path / "ds" / "labels").rglob("*.txt"):
        label.write_text("".join(f"12 {line.split(' ', 1)[1]}\n" for line in label.read_text().splitlines()))
    argv = ["--cfg", "yolov8n-hornet.yaml", "--data", str(data), "--epochs", "1", "--img", "64", "--workers", "0"]
    rc, err = run(train_main, argv, capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "no usable labelled images", "class ids must be 0..nc-1")


@pytest.mark.parametrize("name", ["../escape", "/abs/path", ".."])
def test_name_cannot_leave_project(tmp_path, capsys, name):
    rc, err = run(train_main, ["--name", name], capsys, tmp_path / "runs")
    assert_clean_error(rc, err, tmp_path / "runs", "must be a folder name inside --project")
    assert not (tmp_path / "escape").exists()


def test_exist_ok_reuses_the_folder_and_keeps_its_files(tmp_path, capsys, tiny_weights):
    run_dir = tmp_path / "runs" / "exp"
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("mine")
    image = next((REPO / "data" / "digitscenes" / "images" / "val").glob("*.jpg"))
    argv = ["--weights", str(tiny_weights), "--source", str(image), "--img", "64", "--project", str(tmp_path / "runs")]
    assert detect_main([*argv, "--exist-ok"]) == 0
    assert (run_dir / "notes.txt").read_text() == "mine" and (run_dir / image.name).is_file()
    assert detect_main(argv) == 0 and (tmp_path / "runs" / "exp2" / image.name).is_file()


def test_generator_refuses_a_non_empty_folder_and_overwrites_whole(tmp_path, capsys):
    from yolo_hornet.data.digitscenes import main as generate

    out = tmp_path / "data"
    out.mkdir()
    (out / "mine.txt").write_text("user file")
    assert generate(["--out", str(out), "--train", "3", "--val", "1", "--imgsz", "64"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --out") and "--overwrite" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]  # untouched

    assert generate(["--out", str(out), "--train", "5", "--val", "2", "--imgsz", "64"] + ["--overwrite"]) == 0
    assert generate(["--out", str(out), "--train", "3", "--val", "1", "--imgsz", "64"] + ["--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["data.yaml", "images", "labels"]
    assert len(list((out / "images" / "train").iterdir())) == 3 and len(list((out / "labels" / "val").iterdir())) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no staging folder left behind
