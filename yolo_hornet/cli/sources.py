"""Check a ``--source`` before ultralytics opens it, so that every bad source is one clear error."""

from __future__ import annotations

import glob
import socket
from pathlib import Path
from urllib.parse import urlparse

import cv2

from .errors import UserError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".gif", ".ts", ".asf"}
STREAM_SCHEMES = {"rtsp", "rtmp", "http", "https", "tcp", "udp"}
DEFAULT_PORTS = {"rtsp": 554, "rtmp": 1935, "http": 80, "https": 443}


def check_url(url: str, timeout: float = 3.0) -> None:
    """Fail fast when a stream URL's host does not answer (instead of a long decoder hang)."""
    parsed = urlparse(url)
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme)
    if not parsed.hostname or port is None:
        raise UserError(f"--source '{url}' is not a valid stream URL (scheme://host[:port]/path)")
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as e:
        raise UserError(
            f"--source '{url}': stream unreachable ({parsed.hostname}:{port}: {e.strerror or e}); check the address"
        ) from e


def check_video(path: Path) -> int:
    """Return the frame count of a readable video; raise :class:`UserError` for empty or undecodable files."""
    if path.stat().st_size == 0:
        raise UserError(f"--source '{path}' is an empty file (0 bytes)")
    cap = cv2.VideoCapture(str(path))
    ok = cap.isOpened() and cap.read()[0]
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if ok else 0
    cap.release()
    if not ok:
        raise UserError(f"--source '{path}' is not a readable video (no frame could be decoded)")
    return frames


def check_source(source: str) -> tuple[str, int | None]:
    """Validate ``--source``; return (kind, number of frames/images if known).

    Kinds: ``webcam``, ``stream``, ``list``, ``video``, ``image``, ``folder``, ``glob``.
    """
    if source.isnumeric():
        cap = cv2.VideoCapture(int(source))
        ok = cap.isOpened()
        cap.release()
        if not ok:
            raise UserError(f"--source {source}: no webcam with index {source} on this machine")
        return "webcam", None
    scheme = urlparse(source).scheme.lower()
    if scheme in STREAM_SCHEMES:
        check_url(source)
        return "stream", None
    path = Path(source)
    if any(ch in source for ch in "*?["):
        files = glob.glob(source, recursive=True)
        if not files:
            raise UserError(f"--source '{source}': the pattern matches no files")
        return "glob", len(files)
    if not path.exists():
        raise UserError(f"--source '{source}' not found; give an image, folder, glob, video, webcam index or URL")
    if path.is_dir():
        from ultralytics.data.utils import IMG_FORMATS, VID_FORMATS

        files = [f for f in path.iterdir() if f.suffix[1:].lower() in IMG_FORMATS | VID_FORMATS]
        if not files:
            raise UserError(f"--source '{source}': the folder holds no images or videos")
        return "folder", len(files)
    if path.suffix.lower() in {".txt", ".streams"}:
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        if not lines:
            raise UserError(f"--source '{source}' lists no sources")
        if path.suffix.lower() == ".streams":
            for line in lines:
                if urlparse(line).scheme.lower() in STREAM_SCHEMES:
                    check_url(line)
        return "list", len(lines)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "video", check_video(path)
    if path.stat().st_size == 0 or cv2.imread(str(path)) is None:
        raise UserError(f"--source '{source}' is not a readable image or video")
    return "image", 1
