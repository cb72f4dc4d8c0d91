"""Workspace confinement: no path from a plan or dataset reaches outside the run's files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.workspace import (
    PathEscape,
    ReadOnlySource,
    UnknownSource,
    Workspace,
    WorkspaceError,
    check_ref,
    split_ref,
)


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "ws"
    source = tmp_path / "dataset"
    outside = tmp_path / "secret"
    for d in (root, source / "images", outside):
        d.mkdir(parents=True)
    (outside / "key.txt").write_text("top secret")
    (source / "images" / "a.txt").write_text("source file")
    (root / "inside.txt").write_text("inside")
    return {"root": root, "source": source, "outside": outside}


def test_read_write_round_trip_is_atomic_and_creates_parents(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"])
    ref = ws.write_bytes("media/deep/x.bin", b"\x00\x01payload")
    assert ref == "media/deep/x.bin"
    assert ws.read_bytes("media/deep/x.bin") == b"\x00\x01payload"
    assert (layout["root"] / "media/deep/x.bin").read_bytes() == b"\x00\x01payload"
    ws.write_bytes("media/deep/x.bin", b"second")
    assert ws.read_bytes("media/deep/x.bin") == b"second"
    # no temp files left behind by the temp + rename write
    assert sorted(p.name for p in (layout["root"] / "media/deep").iterdir()) == ["x.bin"]


@pytest.mark.parametrize(
    "ref",
    ["../secret/key.txt", "a/../../secret/key.txt", "..", "a/..", "/etc/passwd", "//etc/passwd"],
)
def test_parent_and_absolute_paths_are_refused_lexically(
    layout: dict[str, Path], ref: str
) -> None:
    ws = Workspace(layout["root"])
    with pytest.raises(PathEscape) as info:
        ws.read_bytes(ref)
    assert ref in str(info.value)
    with pytest.raises(PathEscape):
        ws.write_bytes(ref, b"x")
    assert (layout["outside"] / "key.txt").read_text() == "top secret"


def test_absolute_path_message_is_clear(layout: dict[str, Path]) -> None:
    with pytest.raises(PathEscape, match="absolute"):
        Workspace(layout["root"]).resolve(str(layout["outside"] / "key.txt"))
    with pytest.raises(PathEscape, match=r"'\.\.'"):
        check_ref("x/../../y")


def test_symlink_to_outside_file_is_refused(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"])
    os.symlink(layout["outside"] / "key.txt", layout["root"] / "link.txt")
    with pytest.raises(PathEscape, match="outside"):
        ws.read_bytes("link.txt")


def test_symlinked_intermediate_directory_is_refused_for_read_and_write(
    layout: dict[str, Path],
) -> None:
    ws = Workspace(layout["root"])
    os.symlink(layout["outside"], layout["root"] / "media")
    with pytest.raises(PathEscape):
        ws.read_bytes("media/key.txt")
    with pytest.raises(PathEscape):
        ws.write_bytes("media/new.txt", b"x")
    with pytest.raises(PathEscape):
        ws.write_bytes("media/sub/new.txt", b"x")
    assert sorted(p.name for p in layout["outside"].iterdir()) == ["key.txt"]


def test_write_replaces_a_symlink_at_destination_instead_of_following_it(
    layout: dict[str, Path],
) -> None:
    ws = Workspace(layout["root"])
    # A symlink inside the workspace pointing to another inside file may be read...
    os.symlink(layout["root"] / "inside.txt", layout["root"] / "alias.txt")
    assert ws.read_bytes("alias.txt") == b"inside"
    ws.write_bytes("alias.txt", b"replaced")
    # ...and writing to it replaces the link, never the target.
    assert (layout["root"] / "inside.txt").read_text() == "inside"
    assert not (layout["root"] / "alias.txt").is_symlink()
    assert ws.read_bytes("alias.txt") == b"replaced"


def test_internal_symlinks_are_followed(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"])
    (layout["root"] / "real").mkdir()
    (layout["root"] / "real" / "f.txt").write_text("ok")
    os.symlink(layout["root"] / "real", layout["root"] / "alias")
    assert ws.read_text("alias/f.txt") == "ok"
    ws.write_bytes("alias/g.txt", b"written")
    assert (layout["root"] / "real" / "g.txt").read_bytes() == b"written"


def test_workspace_root_given_through_a_symlink_works(layout: dict[str, Path]) -> None:
    link = layout["root"].parent / "ws-link"
    os.symlink(layout["root"], link)
    ws = Workspace(link)
    assert ws.read_text("inside.txt") == "inside"
    ws.write_text("new.txt", "n")
    assert (layout["root"] / "new.txt").read_text() == "n"


def test_mounted_source_is_readable_and_read_only(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"], sources={"ds": layout["source"]})
    assert ws.read_text("ds:images/a.txt") == "source file"
    assert ws.list_files("ds:") == ["ds:images/a.txt"]
    with pytest.raises(ReadOnlySource, match="read-only"):
        ws.write_bytes("ds:images/b.txt", b"x")
    assert not (layout["source"] / "images" / "b.txt").exists()
    with pytest.raises(PathEscape):
        ws.read_bytes("ds:../secret/key.txt")
    with pytest.raises(PathEscape):
        ws.read_bytes("ds:/etc/passwd")


def test_source_symlink_escape_is_refused(layout: dict[str, Path]) -> None:
    os.symlink(layout["outside"], layout["source"] / "images" / "escape")
    ws = Workspace(layout["root"], sources={"ds": layout["source"]})
    with pytest.raises(PathEscape):
        ws.read_bytes("ds:images/escape/key.txt")
    # listing never reveals files reachable only through an escaping link
    assert ws.list_files("ds:") == ["ds:images/a.txt"]


def test_a_source_does_not_grant_its_siblings(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"], sources={"img": layout["source"] / "images"})
    assert ws.read_text("img:a.txt") == "source file"
    with pytest.raises(PathEscape):
        ws.read_bytes("img:../../secret/key.txt")


def test_unknown_source_and_bad_names(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"])
    with pytest.raises(UnknownSource, match="not mounted"):
        ws.read_bytes("nope:x.txt")
    with pytest.raises(WorkspaceError, match="source name"):
        ws.mount("Bad Name", layout["source"])
    with pytest.raises(WorkspaceError, match="not a directory"):
        ws.mount("file", layout["root"] / "inside.txt")


def test_dot_slash_escapes_source_parsing(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"])
    ref = ws.write_bytes("./odd:name.txt", b"colon")
    assert ref == "./odd:name.txt"
    assert (layout["root"] / "odd:name.txt").read_bytes() == b"colon"
    assert ws.relative(layout["root"] / "odd:name.txt") == "./odd:name.txt"


def test_split_and_check_ref() -> None:
    assert split_ref("a//b/./c.txt") == (None, ("a", "b", "c.txt"))
    assert split_ref("src:x/y.png") == ("src", ("x", "y.png"))
    assert split_ref("src:") == ("src", ())
    with pytest.raises(PathEscape, match="empty"):
        split_ref("")
    with pytest.raises(PathEscape, match="NUL"):
        split_ref("a\x00b")
    with pytest.raises(ReadOnlySource):
        check_ref("src:x.png", writable=True)
    with pytest.raises(PathEscape, match="directory root"):
        check_ref(".", writable=True)


def test_relative_maps_host_paths_back(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"], sources={"ds": layout["source"]})
    assert ws.relative(layout["root"] / "inside.txt") == "inside.txt"
    assert ws.relative(layout["source"] / "images" / "a.txt") == "ds:images/a.txt"
    with pytest.raises(PathEscape):
        ws.relative(layout["outside"] / "key.txt")


def test_sha256_matches_content(layout: dict[str, Path]) -> None:
    import hashlib

    ws = Workspace(layout["root"])
    ws.write_bytes("f.bin", b"abc" * 100_000)
    assert ws.sha256("f.bin") == hashlib.sha256(b"abc" * 100_000).hexdigest()


def test_descriptor_checks_catch_a_symlink_swapped_in_after_resolve(
    layout: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: a directory becomes an escaping symlink between the check and the write."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd")
    ws = Workspace(layout["root"])
    os.symlink(layout["outside"], layout["root"] / "media")
    os.symlink(layout["outside"] / "key.txt", layout["root"] / "leak.txt")
    # Pretend the path-level check ran before the swap and passed.
    monkeypatch.setattr(ws, "resolve", lambda ref, writable=False: layout["root"] / ref)
    with pytest.raises(PathEscape):
        ws.write_bytes("media/new.txt", b"x")
    with pytest.raises(PathEscape):
        ws.read_bytes("leak.txt")
    assert sorted(p.name for p in layout["outside"].iterdir()) == ["key.txt"]


def test_directories_are_not_files(layout: dict[str, Path]) -> None:
    ws = Workspace(layout["root"])
    (layout["root"] / "d").mkdir()
    with pytest.raises(WorkspaceError, match="'d' is a directory"):
        ws.read_bytes("d")
    with pytest.raises(WorkspaceError, match="'d' is a directory"):
        ws.write_bytes("d", b"x")
    with pytest.raises(NotADirectoryError):
        ws.write_bytes("inside.txt/child", b"x")
