"""Reading an LMS download: names decoded whatever made the zip, hostile zips refused file by file."""

from __future__ import annotations

import os
import zipfile

import pytest
from coursekit import unicode_path_field, write_zip

from coursework import limits
from coursework.lms import download
from coursework.lms.download import DownloadError, read_download


def by_path(members):
    return {m.path: m for m in members}


def test_names_decode_from_the_utf8_flag_raw_utf8_cp437_and_infozip_unicode_field(tmp_path):
    files = {"flag.ipynb": b"{}", "raw.ipynb": b"{}", "cp437.ipynb": b"{}", "field.ipynb": b"{}"}
    archive = tmp_path / "names.zip"
    # Python sets the UTF-8 flag itself for a non-ASCII name; the others are stored as raw bytes, no flag.
    names = {"flag.ipynb": "García_1_assignsubmission_file/a.ipynb",
             "raw.ipynb": "Pérez_2_assignsubmission_file/b.ipynb",  # Info-ZIP on Linux, macOS: UTF-8 bytes
             "cp437.ipynb": "Gómez_3_assignsubmission_file/c.ipynb",  # Windows' zip: the OEM code page
             "field.ipynb": "Ibáñez_4_assignsubmission_file/d.ipynb"}  # Latin-1 + Info-ZIP's UTF-8 field
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(names["flag.ipynb"], b"{}")
    raw = {"raw.ipynb": names["raw.ipynb"].encode("utf-8"),
           "cp437.ipynb": names["cp437.ipynb"].encode("cp437"),
           "field.ipynb": names["field.ipynb"].encode("latin-1")}
    other = write_zip(tmp_path / "raw.zip", {k: files[k] for k in raw}, raw_names=raw,
                      extras={"field.ipynb": unicode_path_field(raw["field.ipynb"], names["field.ipynb"])})
    got = {m.path for m in read_download(archive)} | {m.path for m in read_download(other)}
    assert got == set(names.values())


def test_a_stale_unicode_field_is_ignored(tmp_path):
    raw = "Pérez/b.ipynb".encode()
    field = unicode_path_field(b"another name", "Wrong/z.ipynb")  # its CRC is of another name
    archive = write_zip(tmp_path / "stale.zip", {"x": b"{}"}, raw_names={"x": raw}, extras={"x": field})
    assert [m.path for m in read_download(archive)] == ["Pérez/b.ipynb"]


def test_paths_that_point_outside_are_refused_and_nothing_is_written(tmp_path):
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in ("../../evil.ipynb", "/etc/evil.ipynb", "C:/evil.ipynb", "ok/../../evil2.ipynb",
                     "..\\..\\evil3.ipynb", "fine/notebook.ipynb"):
            bundle.writestr(name, b"{}")
    before = set(os.listdir(tmp_path))
    members = by_path(read_download(archive))
    assert set(os.listdir(tmp_path)) == before  # nothing extracted anywhere
    assert members["fine/notebook.ipynb"].data == b"{}"
    refused = [m for m in members.values() if m.data is None]
    assert len(refused) == 5
    assert all("outside the download" in m.problem for m in refused)


def test_a_zip_bomb_is_not_read_whatever_its_header_claims(tmp_path, monkeypatch):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("a_bomb.ipynb", b"\0" * (8 * 2**20))  # 8 MB of zeros: ~8 KB compressed, ratio ~1000
        bundle.writestr("b_notebook.ipynb", b'{"cells": []}')
    members = by_path(read_download(archive))
    assert members["a_bomb.ipynb"].data is None and "zip bomb" in members["a_bomb.ipynb"].problem
    assert members["b_notebook.ipynb"].data == b'{"cells": []}'
    # A bomb that lies about its size is stopped by the bounded read.
    monkeypatch.setattr(download, "COMPRESSION_RATIO", 10**9)
    monkeypatch.setattr(download, "NOTEBOOK_FILE_BYTES", 2**20)
    lying = tmp_path / "lying.zip"
    content = archive.read_bytes()
    with zipfile.ZipFile(archive) as bundle:
        info = bundle.getinfo("a_bomb.ipynb")
    declared = (8 * 2**20).to_bytes(4, "little")
    lying.write_bytes(content.replace(declared, (1000).to_bytes(4, "little")))
    members = by_path(read_download(lying))
    assert members["a_bomb.ipynb"].data is None, info
    assert members["b_notebook.ipynb"].data == b'{"cells": []}'


def test_too_many_files_and_non_notebooks(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "DOWNLOAD_FILES", 3)
    archive = write_zip(tmp_path / "many.zip", {f"{i}.txt": b"x" for i in range(4)})
    with pytest.raises(DownloadError, match="at most 3 files"):
        read_download(archive)
    archive = write_zip(tmp_path / "few.zip", {"notes.pdf": b"%PDF", "a.ipynb": b"{}"})
    members = by_path(read_download(archive))
    assert members["notes.pdf"].data is None and members["notes.pdf"].problem == "not a notebook (.ipynb)"
    assert limits.DOWNLOAD_FILES >= 20_000  # the real limit leaves room for a 2,000-student course


def test_a_folder_download_skips_links_and_hidden_files(tmp_path):
    folder = tmp_path / "download"
    (folder / "Ana_1_assignsubmission_file").mkdir(parents=True)
    (folder / "Ana_1_assignsubmission_file" / "notebook.ipynb").write_bytes(b"{}")
    (folder / ".DS_Store").write_bytes(b"x")
    secret = tmp_path / "secret.ipynb"
    secret.write_text("{}")
    (folder / "link.ipynb").symlink_to(secret)
    members = by_path(read_download(folder))
    assert set(members) == {"Ana_1_assignsubmission_file/notebook.ipynb", "link.ipynb"}
    assert members["link.ipynb"].data is None and "symbolic link" in members["link.ipynb"].problem


def test_bad_sources_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_download(tmp_path / "missing.zip")
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(DownloadError, match="not a zip file"):
        read_download(tmp_path / "not.zip")
