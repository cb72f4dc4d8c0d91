"""The anchor: what a published benchmark folder says about the log it came from.

A hash chain alone proves nothing to someone who can rewrite `events.db` and
re-seal every later event. The anchor pins the chain where it cannot be
rewritten: in what was published. It records the run, the content hash of the
benchmark files (`benchmark.jsonl` and `media/`) and the log's head at
publication: the seq and hash of the `BenchmarkPublished` event, which chains
every event before it. The head is known only once that event is sealed, and
that event names the content hash, so the anchor lives outside the
content-hashed files: in `spec.json` (key `anchor`) and the README card.

Optionally the anchor is signed with Ed25519 (`--sign-key FILE`); the signature
covers the canonical JSON of the anchor without its `signature` field, and the
public key travels with it. Ed25519 signatures are deterministic, so a replay
with the same key writes the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ANCHOR_FORMAT = "benchagent-anchor/1"
_json = msgspec.json.Encoder(order="deterministic")


class AnchorError(Exception):
    """A key or an anchor that cannot be used; the message is one clear line."""


class Signature(msgspec.Struct, frozen=True, kw_only=True):
    algorithm: Literal["ed25519"] = "ed25519"
    public_key: str  # 32 bytes, hex
    value: str  # 64 bytes, hex


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    format: str = ANCHOR_FORMAT
    run_id: str
    content_hash: str  # sha256 of benchmark.jsonl and media/ (`content_hash`)
    head_seq: int  # seq of BenchmarkPublished
    head_hash: str  # its chain hash: covers every event up to and including it
    signature: Signature | None = None

    def signed_bytes(self) -> bytes:
        """What a signature covers: the anchor without its signature, canonical JSON."""
        return _json.encode(msgspec.structs.replace(self, signature=None))


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (PKCS#8, OpenSSH or `openssl genpkey
    -algorithm ed25519`) or a file holding the raw 32-byte seed; `AnchorError` if not."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AnchorError(f"--sign-key {path}: cannot be read ({exc.strerror})") from None
    if len(data) == 32 and not data.lstrip().startswith(b"-----"):
        return Ed25519PrivateKey.from_private_bytes(data)
    key: object
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, msgspec.ValidationError) as exc:
        raise AnchorError(f"--sign-key {path}: not an unencrypted private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError(f"--sign-key {path}: a {type(key).__name__.lstrip('_')}, "
                          "not an Ed25519 private key")
    return key


def sign(anchor: Anchor, key: Ed25519PrivateKey) -> Anchor:
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    value = key.sign(anchor.signed_bytes())
    return msgspec.structs.replace(anchor, signature=Signature(public_key=public.hex(),
                                                               value=value.hex()))


def signature_problem(anchor: Anchor, trusted_key: str | None = None) -> str | None:
    """Why the anchor's signature does not hold (None if it does, or if there is none and
    no key is required). `trusted_key` (hex) is the public key the signer must have."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig = anchor.signature
    if sig is None:
        return "the anchor is not signed" if trusted_key else None
    if trusted_key is not None and sig.public_key != trusted_key:
        return f"signed by key {sig.public_key[:16]}…, not the trusted {trusted_key[:16]}…"
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig.public_key))
        public.verify(bytes.fromhex(sig.value), anchor.signed_bytes())
    except (ValueError, InvalidSignature):
        return f"the Ed25519 signature does not match the anchor (key {sig.public_key[:16]}…)"
    return None


def load_public_key(path: Path) -> str:
    """A trusted Ed25519 public key (PEM, OpenSSH `ssh-ed25519 ...`, or 64 hex digits) as hex."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        data = Path(path).read_bytes().strip()
    except OSError as exc:
        raise AnchorError(f"--public-key {path}: cannot be read ({exc.strerror})") from None
    try:
        if len(data) == 64 and bytes.fromhex(data.decode()):
            return data.decode().lower()
    except ValueError:
        pass
    key: object
    try:
        if data.startswith(b"ssh-ed25519"):
            key = serialization.load_ssh_public_key(data)
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise AnchorError(f"--public-key {path}: not a public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorError(f"--public-key {path}: not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


class NotABenchmark(AnchorError):
    """A folder that is not a published benchmark (no anchored spec.json)."""


def read_folder_anchor(folder: Path) -> Anchor:
    """The anchor in a published folder's `spec.json`; `NotABenchmark` (one line) if none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotABenchmark(f"{folder} is not a folder")
    try:
        doc = msgspec.json.decode((folder / "spec.json").read_bytes())
    except OSError:
        raise NotABenchmark(f"{folder} is not a benchmark folder: it has no spec.json") from None
    except msgspec.DecodeError:
        raise NotABenchmark(f"{folder} is not a benchmark folder: spec.json is not JSON") \
            from None
    raw = doc.get("anchor") if isinstance(doc, dict) else None
    if raw is None:
        raise NotABenchmark(f"{folder} is not an anchored benchmark folder: spec.json has no "
                            "anchor")
    try:
        anchor = msgspec.convert(raw, Anchor)
    except msgspec.ValidationError as exc:
        raise NotABenchmark(f"{folder}: the anchor in spec.json is malformed ({exc})") from None
    if anchor.format != ANCHOR_FORMAT:
        raise NotABenchmark(f"{folder}: anchor format {anchor.format!r} is not {ANCHOR_FORMAT}")
    return anchor
