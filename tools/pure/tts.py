"""Text-to-speech with espeak-ng, to WAV bytes that are identical for identical arguments.

espeak-ng is a formant synthesizer: no model weights, no network, and the same text,
voice, speed and pitch always give the same samples (checked by the tests). We read its
WAV from stdout, whose header carries placeholder sizes, and rewrite a correct header so
the bytes depend only on the samples.

A voice is ``LANGUAGE`` or ``LANGUAGE+VARIANT`` (for example ``en-gb+f2``). The
catalogues below are deliberately closed: a tool's schema lists them, and an unknown
voice is refused up front instead of espeak-ng silently falling back to a default.
"""

from __future__ import annotations

import functools
import io
import shutil
import struct
import subprocess
import wave

from tools.registry import ToolArgumentError, ToolContext, tool

LANGUAGES: tuple[str, ...] = ("en-us", "en-gb", "fr", "de", "es", "it", "pt", "nl")
VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7",
    "f1", "f2", "f3", "f4", "f5",
    "croak", "klatt", "klatt2", "klatt3",
)  # fmt: skip
SPEED_RANGE = (80, 400)  # words per minute; espeak-ng's usable range
PITCH_RANGE = (0, 99)
MAX_TEXT_CHARS = 5000

SAMPLE_RATE = 22050  # espeak-ng's native rate; mono, 16-bit
SAMPLE_WIDTH = 2
CHANNELS = 1

TIMEOUT_S = 60


class TtsUnavailable(RuntimeError):
    """espeak-ng is not installed (apt-get install espeak-ng; see mk/system.mk)."""


def known_voices() -> list[str]:
    """Every accepted voice id, in a stable order (languages, then language+variant)."""
    return list(LANGUAGES) + [f"{lang}+{var}" for lang in LANGUAGES for var in VARIANTS]


def validate_voice(voice: str) -> None:
    lang, _, variant = voice.partition("+")
    if lang not in LANGUAGES:
        raise ToolArgumentError(f"voice {voice!r}: language must be one of {', '.join(LANGUAGES)}")
    if "+" in voice and variant not in VARIANTS:
        raise ToolArgumentError(f"voice {voice!r}: variant must be one of {', '.join(VARIANTS)}")


def validate_args(text: str, voice: str, speed: int, pitch: int) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ToolArgumentError("text must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise ToolArgumentError(f"text has {len(text)} characters; at most {MAX_TEXT_CHARS}")
    if "\x00" in text:
        raise ToolArgumentError("text must not contain NUL characters")
    validate_voice(voice)
    for name, value, (low, high) in (("speed", speed, SPEED_RANGE), ("pitch", pitch, PITCH_RANGE)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ToolArgumentError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


@functools.cache
def espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise TtsUnavailable(
            "espeak-ng not found: run `make system-packages` (apt-get install espeak-ng)"
        )
    return path


@functools.cache
def espeak_version() -> str:
    """The installed espeak-ng version: part of a TTS output's provenance."""
    out = subprocess.run(
        [espeak_binary(), "--version"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    ).stdout
    # "eSpeak NG text-to-speech: 1.51  Data at: ..."
    for token in out.split():
        if token[:1].isdigit():
            return token
    return out.strip()


def pcm_from_espeak_stream(stream: bytes) -> bytes:
    """The PCM samples of espeak-ng's streamed WAV (its RIFF and data sizes are placeholders)."""
    if len(stream) < 12 or stream[:4] != b"RIFF" or stream[8:12] != b"WAVE":
        raise RuntimeError("espeak-ng did not produce a WAV stream")
    pos = 12
    while pos + 8 <= len(stream):
        chunk_id, size = stream[pos : pos + 4], struct.unpack("<I", stream[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt ":
            channels, rate, bits = struct.unpack("<HI6xH", stream[pos + 10 : pos + 24])
            if (channels, rate, bits) != (CHANNELS, SAMPLE_RATE, 8 * SAMPLE_WIDTH):
                raise RuntimeError(f"unexpected espeak-ng format {channels}ch {rate}Hz {bits}bit")
        if chunk_id == b"data":
            pcm = stream[pos + 8 :]  # the declared size is bogus when streaming: take the rest
            return pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH]
        pos += 8 + size + (size & 1)
    raise RuntimeError("espeak-ng WAV stream has no data chunk")


def wav_from_pcm(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A canonical 44-byte-header PCM WAV (mono, 16-bit)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buf.getvalue()


def synthesize(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> bytes:
    """Speak ``text`` and return WAV bytes (22,050 Hz, mono, 16-bit).

    The text goes through stdin, so a text starting with ``-`` is never read as an option,
    and without ``-m`` no SSML markup is interpreted.
    """
    validate_args(text, voice, speed, pitch)
    proc = subprocess.run(
        [espeak_binary(), "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch)],
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.decode()[:200]}")
    return wav_from_pcm(pcm_from_espeak_stream(proc.stdout))


def duration_s(wav_bytes: bytes) -> float:
    with wave.open(io.BytesIO(wav_bytes), "rb") as w:
        return w.getnframes() / w.getframerate()


# ----------------------------------------------------------------- registered tool

TTS_PARAMETERS: dict = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS},
        "voice": {"type": "string", "enum": known_voices(), "default": "en-us"},
        "speed": {
            "type": "integer", "minimum": SPEED_RANGE[0], "maximum": SPEED_RANGE[1], "default": 160,
        },
        "pitch": {
            "type": "integer", "minimum": PITCH_RANGE[0], "maximum": PITCH_RANGE[1], "default": 50,
        },
        "output": {"type": "string", "format": "ws-output-path"},
    },
    "required": ["text", "output"],
    "additionalProperties": False,
}  # fmt: skip


def _check_tts(args: dict) -> None:
    validate_args(args["text"], args["voice"], args["speed"], args["pitch"])


@tool(
    name="tts",
    version="1",
    family="audio",
    description=(
        "Text-to-speech with espeak-ng to a WAV file (22,050 Hz mono 16-bit). Voice is a "
        "language (en-us, en-gb, fr, de, es, it, pt, nl) optionally with a variant "
        "(+m1..+m7 male, +f1..+f5 female, ...); speed in words per minute; pitch 0-99."
    ),
    parameters=TTS_PARAMETERS,
    check=_check_tts,
)
def tts_tool(ctx: ToolContext, args: dict) -> dict:
    wav = synthesize(args["text"], args["voice"], args["speed"], args["pitch"])
    ctx.write_file("audio", args["output"], wav)
    return {"duration_ms": round(duration_s(wav) * 1000), "engine": f"espeak-ng {espeak_version()}"}
