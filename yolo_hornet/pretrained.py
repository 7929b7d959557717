"""HorNet ImageNet-1k weights by name: download on request, verify the checksum, keep in a cache folder.

The files are the ones mmpretrain hosts (converted from the official release; T, S and B in 7x7 and GF). A name
such as ``hornet_tiny_7x7`` (or the preset ``tiny_7x7``) resolves to ``<cache>/<mmpretrain file name>``, where
``<cache>`` is ultralytics' weights folder plus ``hornet`` (``yolo settings`` shows ``weights_dir``). The file
name ends in the first 8 hex digits of the file's SHA-256, which is checked after every download (as
``torch.hub``'s ``check_hash`` does) and on every use of the cached file.

Nothing is fetched unless such a name is asked for. A download goes to a temporary file next to the target and is
renamed only after the checksum matched, so the cache never holds a partial or corrupt file. For firewalled sites,
``YOLO_HORNET_WEIGHTS_URL`` replaces the base URL: the file asked for is ``<base>/<mmpretrain file name>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

MMPRETRAIN_URL = "https://download.openmmlab.com/mmclassification/v0/hornet"
MIRROR_ENV = "YOLO_HORNET_WEIGHTS_URL"
WEIGHTS: dict[str, str] = {  # preset -> mmpretrain file name (its suffix: the first 8 hex digits of the SHA-256)
    "tiny_7x7": "hornet-tiny_3rdparty_in1k_20220915-0e8eedff.pth",
    "tiny_gf": "hornet-tiny-gf_3rdparty_in1k_20220915-4c35a66b.pth",
    "small_7x7": "hornet-small_3rdparty_in1k_20220915-5935f60f.pth",
    "small_gf": "hornet-small-gf_3rdparty_in1k_20220915-649ca492.pth",
    "base_7x7": "hornet-base_3rdparty_in1k_20220915-a06176bb.pth",
    "base_gf": "hornet-base-gf_3rdparty_in1k_20220915-82c06fa7.pth",
}
CHUNK = 1 << 20


class PretrainedWeightsError(ValueError):
    """A named checkpoint could not be provided (offline, HTTP error, wrong checksum); the message says why and
    where a manually downloaded file is picked up."""


def preset_of(name: str) -> str | None:
    """``hornet_tiny_7x7``, ``tiny_7x7`` or ``hornet_tiny_7x7.pth`` -> ``tiny_7x7`` when it has weights, else None."""
    key = Path(str(name)).name.removesuffix(".pth").removesuffix(".pt").lower()
    key = key.removeprefix("hornet_").removeprefix("hornet-")
    return key if key in WEIGHTS else None


CACHE_ENV = "YOLO_HORNET_CACHE"


def cache_dir() -> Path:
    """Where downloaded HorNet weights are kept, one absolute folder per user whatever the working folder:
    ``$YOLO_HORNET_CACHE``, else ``<ultralytics weights_dir>/hornet`` when that setting is absolute, else
    ``<ultralytics config dir>/weights/hornet`` (ultralytics' default ``weights_dir`` is the relative ``weights``)."""
    from ultralytics.utils import SETTINGS, USER_CONFIG_DIR

    if os.environ.get(CACHE_ENV, "").strip():
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    weights = Path(SETTINGS["weights_dir"]).expanduser()
    return (weights if weights.is_absolute() else Path(USER_CONFIG_DIR) / "weights") / "hornet"


def weights_url(preset: str) -> str:
    """The URL of a preset's file: mmpretrain's, or ``$YOLO_HORNET_WEIGHTS_URL/<file name>``."""
    base = os.environ.get(MIRROR_ENV, "").strip() or MMPRETRAIN_URL
    return f"{base.rstrip('/')}/{WEIGHTS[preset]}"


def expected_hash(file_name: str) -> str:
    """The SHA-256 prefix in an mmpretrain file name (``...-0e8eedff.pth`` -> ``0e8eedff``)."""
    match = re.search(r"-([0-9a-f]{8,64})\.pth?$", file_name)
    if not match:
        raise ValueError(f"no SHA-256 prefix in the file name {file_name!r}")
    return match.group(1)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def pretrained_file(name: str, progress: bool = True) -> Path:
    """Return the verified local file of a named HorNet checkpoint, downloading it into the cache if needed.

    Args:
        name (str): ``hornet_tiny_7x7`` or a preset name with weights (see ``WEIGHTS``).
        progress (bool): Print download progress on stderr.

    Raises:
        PretrainedWeightsError: Unknown name, download failure (offline, HTTP error) or checksum mismatch; nothing
            partial or corrupt is left in the cache.
    """
    preset = preset_of(name)
    if preset is None:
        raise PretrainedWeightsError(
            f"no ImageNet weights named {name!r}; available: {', '.join('hornet_' + k for k in WEIGHTS)}"
        )
    file_name = WEIGHTS[preset]
    target = cache_dir() / file_name
    want = expected_hash(file_name)
    if target.is_file():
        got = sha256_of(target)
        if not got.startswith(want):
            raise PretrainedWeightsError(
                f"{target} has SHA-256 {got[:16]}..., expected it to start with {want}: the file is damaged or not "
                f"hornet_{preset}; delete it and ask again to download it"
            )
        return target
    url = weights_url(preset)
    made = not target.parent.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{file_name}.{os.getpid()}.part")
    if progress:
        print(f"downloading {url} -> {target}", file=sys.stderr)
    try:
        got = download(url, tmp, progress)
        if not got.startswith(want):
            raise PretrainedWeightsError(
                f"the file downloaded from {url} has SHA-256 {got[:16]}..., expected it to start with {want} (a "
                f"wrong or corrupt file); nothing was kept in {target.parent}"
            )
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", e)
        raise PretrainedWeightsError(
            f"cannot download hornet_{preset} from {url} ({reason}); download that file by hand and put it at "
            f"{target} (or set {MIRROR_ENV} to a mirror that serves {file_name})"
        ) from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if made and not target.is_file():
            with contextlib.suppress(OSError):
                target.parent.rmdir()  # a failed first download leaves no empty cache folder behind
    return target


def download(url: str, dest: Path, progress: bool = True, timeout: float = 30.0) -> str:
    """Stream ``url`` into ``dest``; return the SHA-256 of what was written. HTTP errors raise ``URLError``."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "yolo_hornet"})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as f:  # noqa: S310
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        for block in iter(lambda: response.read(CHUNK), b""):
            f.write(block)
            digest.update(block)
            done += len(block)
            if progress and total and sys.stderr.isatty():
                print(f"\r{done / 2**20:.1f}/{total / 2**20:.1f} MiB", end="", file=sys.stderr, flush=True)
        f.flush()
        os.fsync(f.fileno())
    if progress and total and sys.stderr.isatty():
        print(file=sys.stderr)
    return digest.hexdigest()
