"""The published folder anchors the log: spec.json and the README carry the head hash at
publication next to the content hash, and `verify RUN --against DIR` fails, one line per
disagreement, when the log (even re-chained) and the folder disagree. Optional Ed25519
signature of the anchor. Real SQLite files, the CLI, real keys."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchagent.cli import main
from replay.benchmark_files import benchmark_hash, directory_hash
from store.events import Envelope, SampleRealized
from store.sqlite_log import SQLiteEventLog
from tests.replay.forgery import rewrite_run
from tests.replay.synthetic_run import store_synthetic_media, synthetic_run

RUN = "run-anchored"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(synthetic_run(RUN, samples=20, reject_every=4), expected_seq=0)
        await store_synthetic_media(tmp_path, 20)
        await log.close()

    asyncio.run(fill())
    return tmp_path


def key_files(folder: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                     serialization.PublicFormat.OpenSSH))
    return private, public


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def publish(capsys, home: Path, out: Path, *extra: str) -> Path:
    code, _, err = cli(capsys, "replay", RUN, "--out", str(out), "--home", str(home), *extra)
    assert code == 0, err
    return out


def against(capsys, home: Path, folder: Path, *extra: str) -> tuple[int, list[str], str]:
    code, out, err = cli(capsys, "verify", RUN, "--home", str(home), "--against", str(folder),
                         *extra)
    return code, out.strip().splitlines(), err


async def _events(home: Path) -> list[Envelope]:
    log = SQLiteEventLog(home / "events.db")
    try:
        return await log.read(RUN)
    finally:
        await log.close()


def test_spec_and_readme_carry_the_head_hash_and_the_content_hash(home: Path, tmp_path: Path,
                                                                  capsys) -> None:
    out = publish(capsys, home, tmp_path / "pub")
    events = asyncio.run(_events(home))
    published = next(e for e in events if e.type == "BenchmarkPublished")
    anchor = json.loads((out / "spec.json").read_text())["anchor"]
    assert anchor == {"format": "benchagent-anchor/1", "run_id": RUN,
                      "content_hash": published.payload.content_hash,
                      "head_seq": published.seq, "head_hash": published.hash,
                      "signature": None}
    assert benchmark_hash(out) == anchor["content_hash"]
    readme = (out / "README.md").read_text()
    assert published.hash in readme and published.payload.content_hash in readme
    assert f"benchagent verify {RUN} --against DIR" in readme
    # Replay reproduces the same bytes, card and anchor included.
    again = publish(capsys, home, tmp_path / "again")
    assert directory_hash(again) == directory_hash(out)
    code, lines, _ = against(capsys, home, out)
    assert code == 0 and "agrees with the log" in lines[0]


def test_a_log_rechained_after_publication_is_caught(home: Path, tmp_path: Path, capsys) -> None:
    out = publish(capsys, home, tmp_path / "pub")

    def edit(env: Envelope) -> Envelope | None:
        p = env.payload
        if isinstance(p, SampleRealized) and p.sample_id == "cause-d1-00002-a1":
            item = msgspec.structs.replace(p.item, target="C")
            return msgspec.structs.replace(env, payload=msgspec.structs.replace(p, item=item))
        return None

    # The forger re-chains every hash and re-publishes a matching content hash too.
    def forge(env: Envelope) -> Envelope | None:
        edited = edit(env)
        if edited is not None:
            return edited
        if env.type == "BenchmarkPublished":
            forged = asyncio.run(_rebuilt_hash(home, edit))
            return msgspec.structs.replace(env, payload=msgspec.structs.replace(
                env.payload, content_hash=forged))
        return None

    assert rewrite_run(home / "events.db", RUN, forge) == 2
    code, out_text, _ = cli(capsys, "verify", RUN, "--home", str(home))
    assert code == 0 and "hash chain intact" in out_text  # the chain alone is fooled
    code, lines, _ = against(capsys, home, out)
    assert code == 1
    assert any("rewritten after publication" in line for line in lines), lines
    assert any(line.endswith("benchmark.jsonl differs from the log's projection (first at "
                             "line 3)") for line in lines), lines
    assert all(line.startswith(f"run {RUN} vs {out}: ") for line in lines)


async def _rebuilt_hash(home: Path, edit) -> str:  # type: ignore[no-untyped-def]
    from replay.benchmark_files import project_benchmark

    events = [edit(e) or e for e in await _events(home)]
    pub = next(e for e in events if e.type == "BenchmarkPublished").payload
    return project_benchmark(events, pub.sample_ids).content_hash()


def test_a_log_rechained_without_touching_the_items_is_caught(home: Path, tmp_path: Path,
                                                              capsys) -> None:
    out = publish(capsys, home, tmp_path / "pub")
    rewrite_run(home / "events.db", RUN,
                lambda e: msgspec.structs.replace(e, agent="forger") if e.seq == 2 else None)
    code, lines, _ = against(capsys, home, out)
    assert code == 1 and len(lines) == 1
    assert "log head at seq" in lines[0] and "rewritten after publication" in lines[0]


def test_different_items_and_missing_or_altered_media_are_each_named(
        home: Path, tmp_path: Path, capsys) -> None:
    out = publish(capsys, home, tmp_path / "pub")
    media = sorted((out / "media").iterdir())
    assert len(media) == 2
    media[0].unlink()
    media[1].write_bytes(b"not the picture")
    lines_of_items = (out / "benchmark.jsonl").read_text().splitlines()
    (out / "benchmark.jsonl").write_text("\n".join(lines_of_items[:-1]) + "\n")
    (out / "extra.txt").write_text("slipped in")
    code, lines, _ = against(capsys, home, out)
    assert code == 1
    text = "\n".join(lines)
    assert f"media/{media[0].name} is missing from the folder" in text
    assert f"media/{media[1].name} was altered" in text
    assert "benchmark.jsonl differs from the log's projection" in text
    assert "extra.txt is not part of the published benchmark" in text
    assert len(lines) == 4


def test_against_something_that_is_not_a_benchmark_is_one_line(home: Path, tmp_path: Path,
                                                                capsys) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("x")
    for target, said in ((plain, "has no spec.json"), (plain / "notes.txt", "is not a folder"),
                         (tmp_path / "nowhere", "is not a folder")):
        code, out, err = cli(capsys, "verify", RUN, "--home", str(home), "--against", str(target))
        assert code == 2 and out == "" and err.count("\n") == 1 and said in err, err
    (plain / "spec.json").write_text('{"requirement": "an older, unanchored benchmark"}')
    code, _, err = cli(capsys, "verify", RUN, "--home", str(home), "--against", str(plain))
    assert code == 2 and "has no anchor" in err


def test_a_signed_anchor_verifies_and_a_forged_one_does_not(home: Path, tmp_path: Path,
                                                            capsys) -> None:
    private, public = key_files(tmp_path, "owner")
    other_private, other_public = key_files(tmp_path, "forger")
    out = publish(capsys, home, tmp_path / "signed", "--sign-key", str(private))
    anchor = json.loads((out / "spec.json").read_text())["anchor"]
    assert anchor["signature"]["algorithm"] == "ed25519"
    assert anchor["signature"]["public_key"] in (out / "README.md").read_text()
    again = publish(capsys, home, tmp_path / "signed-again", "--sign-key", str(private))
    assert directory_hash(again) == directory_hash(out)  # Ed25519 is deterministic

    assert against(capsys, home, out)[0] == 0
    assert against(capsys, home, out, "--public-key", str(public))[0] == 0
    code, lines, _ = against(capsys, home, out, "--public-key", str(other_public))
    assert code == 1 and any("not the trusted" in line for line in lines)

    # Signed by someone else, who also swapped in their public key: only a pinned key tells.
    forged = publish(capsys, home, tmp_path / "forged", "--sign-key", str(other_private))
    assert against(capsys, home, forged)[0] == 0
    code, lines, _ = against(capsys, home, forged, "--public-key", str(public))
    assert code == 1 and any("not the trusted" in line for line in lines)

    # An anchor edited after signing: the signature no longer holds.
    spec = json.loads((out / "spec.json").read_text())
    spec["anchor"]["signature"]["value"] = "00" * 64
    (out / "spec.json").write_text(json.dumps(spec))
    code, lines, _ = against(capsys, home, out)
    assert code == 1 and any("signature does not match" in line for line in lines)

    unsigned = publish(capsys, home, tmp_path / "unsigned")
    code, lines, _ = against(capsys, home, unsigned, "--public-key", str(public))
    assert code == 1 and any("not signed" in line for line in lines)


def test_a_bad_sign_key_is_one_line_and_writes_nothing(home: Path, tmp_path: Path,
                                                       capsys) -> None:
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    for key, said in ((not_a_key, "not an unencrypted private key"),
                      (rsa_key, "not an Ed25519 private key"),
                      (tmp_path / "absent.pem", "cannot be read")):
        code, _, err = cli(capsys, "replay", RUN, "--out", str(tmp_path / "o"), "--home",
                           str(home), "--sign-key", str(key))
        assert code == 2 and said in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def test_a_copy_of_a_published_folder_verifies_anywhere(home: Path, tmp_path: Path,
                                                        capsys) -> None:
    out = publish(capsys, home, tmp_path / "pub")
    copy = tmp_path / "elsewhere" / "bench"
    shutil.copytree(out, copy)
    assert against(capsys, home, copy)[0] == 0
