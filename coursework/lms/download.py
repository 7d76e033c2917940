"""Read an LMS download (a zip or an unpacked folder) as untrusted input.

Nothing is extracted: member names only label the bytes read, so a name such
as ``../../.bashrc`` or ``/etc/passwd`` cannot write anywhere (it is refused
and reported). Only notebooks (``.ipynb``) are read, each up to
``NOTEBOOK_FILE_BYTES`` and all together up to ``DOWNLOAD_BYTES``; a member that
claims to expand more than ``COMPRESSION_RATIO`` times is not read; a download
of more than ``DOWNLOAD_FILES`` files is refused. Every file that is not read
comes back with the reason, for the import report.

Member names are decoded whatever made the zip: UTF-8 when the zip says so
(its "language encoding" flag, as Canvas and Python write), the UTF-8 name of
Info-ZIP's Unicode Path field when there is one, UTF-8 bytes without a flag
(Info-ZIP on Linux and macOS), and otherwise code page 437 (Windows' own zip).
"""

from __future__ import annotations

import os
import stat
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..limits import COMPRESSION_RATIO, DOWNLOAD_BYTES, DOWNLOAD_FILES, NOTEBOOK_FILE_BYTES

UTF8_FLAG = 0x800
UNICODE_PATH_FIELD = 0x7075  # Info-ZIP's "up" extra field: version, CRC-32 of the raw name, UTF-8 name


@dataclass(frozen=True)
class Member:
    """One file of a download: its path inside it ('/'-separated) and its bytes, or why it was not read."""

    path: str
    data: bytes | None = None
    problem: str = ""
    mtime: float = 0.0  # as the zip or the folder says (LMSs write the time of the download)

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


class DownloadError(ValueError):
    """The download as a whole cannot be read (not a zip, too many files)."""


def read_download(source: str | Path) -> list[Member]:
    """Every file of a zip or a folder, notebooks with their bytes, in a stable order."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"expected a folder or a .zip of submissions, got {source} (not found)")
    members = _zip_members(source) if source.is_file() else _folder_members(source)
    return sorted(members, key=lambda m: m.path)


def decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as the tool that made the zip meant it."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename  # zipfile decoded it as UTF-8 already
    raw = info.orig_filename.encode("cp437")  # undo zipfile's CP437 decoding: the bytes as stored
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.orig_filename  # really CP437


def safe_path(name: str) -> str | None:
    """The name as a relative '/'-separated path, or None if it points outside (absolute, '..', a drive)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (parts and len(parts[0]) == 2 and parts[0][1] == ":"):
        return None
    kept = [part for part in parts if part not in ("", ".")]
    if not kept or any(part == ".." for part in kept):
        return None
    return "/".join(kept)


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        if tag == UNICODE_PATH_FIELD and len(body) > 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(raw):  # the field describes this very name (not a stale one)
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        at += 4 + size
    return None


def _zip_members(path: Path) -> list[Member]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise DownloadError(f"expected a folder or a .zip of submissions, got {path} (not a zip file)") \
            from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > DOWNLOAD_FILES:
            raise DownloadError(f"expected at most {DOWNLOAD_FILES} files in a download "
                                f"(limits.DOWNLOAD_FILES), got {len(infos)} in {path.name}")
        budget = DOWNLOAD_BYTES
        members = []
        for info in infos:
            name = decoded_name(info)
            relative = safe_path(name)
            mtime = time.mktime(info.date_time + (0, 0, -1))
            if relative is None:
                members.append(Member(name, problem="its path points outside the download (not read)"))
                continue
            problem = _why_not_read(relative, info.file_size, budget)
            if not problem and stat.S_ISLNK(info.external_attr >> 16):
                problem = "a symbolic link, not a file (not read)"
            if not problem and info.compress_size and info.file_size / info.compress_size > COMPRESSION_RATIO:
                problem = (f"it claims to expand {info.file_size / info.compress_size:.0f} times, like a zip "
                           f"bomb (limits.COMPRESSION_RATIO is {COMPRESSION_RATIO}; not read)")
            if problem:
                members.append(Member(relative, problem=problem, mtime=mtime))
                continue
            try:
                with archive.open(info) as stream:
                    data = stream.read(NOTEBOOK_FILE_BYTES + 1)  # whatever the zip declares
            except (zipfile.BadZipFile, OSError, RuntimeError, zlib.error) as error:
                members.append(Member(relative, problem=f"cannot be read from the zip ({error})",
                                      mtime=mtime))
                continue
            if len(data) > NOTEBOOK_FILE_BYTES:
                members.append(Member(relative, problem=_too_large(), mtime=mtime))
                continue
            budget -= len(data)
            members.append(Member(relative, data, mtime=mtime))
    return members


def _folder_members(folder: Path) -> list[Member]:
    members = []
    budget = DOWNLOAD_BYTES
    for root, directories, files in os.walk(folder):  # os.walk does not follow links to folders
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        for file_name in sorted(files):
            path = Path(root, file_name)
            relative = path.relative_to(folder).as_posix()
            if file_name.startswith("."):
                continue
            if len(members) >= DOWNLOAD_FILES:
                raise DownloadError(f"expected at most {DOWNLOAD_FILES} files in a download "
                                    f"(limits.DOWNLOAD_FILES), got more in {folder}")
            if path.is_symlink():
                members.append(Member(relative, problem="a symbolic link, not a file (not followed)"))
                continue
            size, mtime = path.stat().st_size, path.stat().st_mtime
            problem = _why_not_read(relative, size, budget)
            if problem:
                members.append(Member(relative, problem=problem, mtime=mtime))
                continue
            data = path.read_bytes()
            budget -= len(data)
            members.append(Member(relative, data, mtime=mtime))
    return members


def _why_not_read(relative: str, size: int, budget: int) -> str:
    if not relative.lower().endswith(".ipynb"):
        return "not a notebook (.ipynb)"
    if size > NOTEBOOK_FILE_BYTES:
        return _too_large()
    if size > budget:
        return (f"the download holds more than {DOWNLOAD_BYTES // 2**20} MB of notebooks "
                "(limits.DOWNLOAD_BYTES; not read)")
    return ""


def _too_large() -> str:
    return (f"larger than {NOTEBOOK_FILE_BYTES // 2**20} MB, so not a notebook of this course "
            "(limits.NOTEBOOK_FILE_BYTES; not read)")
