"""The compatibility matrix: the compat subset (``tests/compat/test_compat.py``) against every listed ultralytics.

Each version is installed from PyPI (``pip install --no-deps --target``; torch and the other dependencies come from
the running environment) into its own folder under ``$YOLO_HORNET_COMPAT_CACHE`` (default
``~/.cache/yolo-hornet/compat``), kept between runs, and put first on ``PYTHONPATH`` for one pytest run. Prints a
table (check x version) and writes it as Markdown next to the cached versions; exits 1 if any check fails.

    python tests/compat/run.py                      # every version in VERSIONS
    python tests/compat/run.py 8.4.0 8.4.190        # some of them
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ("8.3.253", "8.4.0", "8.4.100", "8.4.190")  # oldest supported, first 8.4, mid 8.4, newest (SUPPORTED)
CACHE = Path(os.environ.get("YOLO_HORNET_COMPAT_CACHE", Path.home() / ".cache" / "yolo-hornet" / "compat"))


def install(version: str) -> Path:
    """The folder holding ultralytics ``version`` (installed once; an interrupted install leaves nothing)."""
    target = CACHE / f"ultralytics-{version}"
    if (target / "ultralytics" / "__init__.py").is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=f".ultralytics-{version}-"))
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp), f"ultralytics=={version}"]
    try:
        subprocess.run(cmd, check=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def run_subset(version: str, folder: Path, report: Path) -> int:
    """Run the compat subset with ``folder`` first on the path; junit XML to ``report``; returns pytest's code."""
    config = report.with_suffix(".config")  # each version its own ultralytics settings (schemas differ)
    env = dict(os.environ, COMPAT_ULTRALYTICS=version, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(config))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::RuntimeWarning",
           str(REPO / "tests" / "compat" / "test_compat.py"), f"--junitxml={report}"]  # fmt: skip
    return subprocess.run(cmd, cwd=REPO, env=env).returncode


def outcomes(report: Path) -> dict[str, str]:
    """``{check: "pass" | "FAIL"}`` from a junit report; parametrized cases fold into one check (``name[*]``)."""
    result: dict[str, str] = {}
    if not report.is_file():
        return result
    for case in ET.parse(report).iter("testcase"):
        name = re.sub(r"\[.*\]$", "", case.get("name", ""))
        failed = case.find("failure") is not None or case.find("error") is not None
        result[name] = "FAIL" if failed or result.get(name) == "FAIL" else "pass"
    return result


def table(results: dict[str, dict[str, str]]) -> str:
    checks = sorted({c for r in results.values() for c in r}, key=lambda c: (c != "test_import", c))
    lines = ["| check | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
    for check in checks:
        cells = [results[v].get(check, "missing") for v in results]
        lines.append(f"| {check.removeprefix('test_')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(versions: list[str]) -> int:
    results: dict[str, dict[str, str]] = {}
    codes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for version in versions:
            start = time.time()
            folder = install(version)
            codes[version] = run_subset(version, folder, Path(tmp) / f"{version}.xml")
            results[version] = outcomes(Path(tmp) / f"{version}.xml")
            print(f"ultralytics {version}: exit {codes[version]} in {time.time() - start:.0f} s", flush=True)
    text = table(results)
    print(text)
    (CACHE / "matrix.md").write_text(text + "\n")
    bad = [v for v in versions if codes[v] != 0 or not results[v]]
    if bad:
        print(f"error: the compatibility subset failed on ultralytics {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(VERSIONS)))
