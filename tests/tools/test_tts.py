"""Text-to-speech with the real espeak-ng: deterministic bytes, distinct voices, refusals."""

from __future__ import annotations

import hashlib
import io
import struct
import wave

import pytest

from tools.pure import tts
from tools.registry import ToolArgumentError, default_registry
from tools.workspace import Workspace

TEXT = "Hello, this is a short test of the speech synthesizer."


def wav_info(data: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


def test_same_arguments_give_identical_bytes() -> None:
    first = tts.synthesize(TEXT, "en-gb+f2", 170, 60)
    second = tts.synthesize(TEXT, "en-gb+f2", 170, 60)
    assert first == second
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_header_is_canonical_and_sizes_are_true() -> None:
    data = tts.synthesize(TEXT)
    (riff_size,) = struct.unpack("<I", data[4:8])
    (data_size,) = struct.unpack("<I", data[40:44])
    assert data[:4] == b"RIFF" and data[36:40] == b"data"
    assert riff_size == len(data) - 8
    assert data_size == len(data) - 44
    channels, width, rate, frames = wav_info(data)
    assert (channels, width, rate) == (1, 2, tts.SAMPLE_RATE)
    assert 1.5 < frames / rate < 8  # a sentence, not silence nor garbage


def test_voices_languages_speed_and_pitch_change_the_audio() -> None:
    outputs = {
        (voice, speed, pitch): tts.synthesize(TEXT, voice, speed, pitch)
        for voice, speed, pitch in [
            ("en-us", 160, 50), ("en-us+m3", 160, 50), ("en-gb+f2", 160, 50),
            ("fr+m1", 160, 50), ("de", 160, 50), ("es+f4", 160, 50),
            ("en-us", 250, 50), ("en-us", 160, 90),
        ]
    }  # fmt: skip
    assert len({hashlib.sha256(v).digest() for v in outputs.values()}) == len(outputs)
    slow = tts.duration_s(outputs[("en-us", 160, 50)])
    fast = tts.duration_s(outputs[("en-us", 250, 50)])
    assert fast < 0.8 * slow


def test_text_starting_with_a_dash_is_spoken_not_parsed_as_an_option() -> None:
    assert tts.duration_s(tts.synthesize("-v xx --help me")) > 0.5


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"text": ""}, "non-empty"),
        ({"text": "   "}, "non-empty"),
        ({"text": "x" * (tts.MAX_TEXT_CHARS + 1)}, "at most"),
        ({"voice": "klingon"}, "language"),
        ({"voice": "en-us+zz"}, "variant"),
        ({"speed": 79}, "speed"),
        ({"speed": 401}, "speed"),
        ({"speed": True}, "speed"),
        ({"pitch": -1}, "pitch"),
        ({"pitch": 100}, "pitch"),
        ({"pitch": 50.5}, "pitch"),
    ],
)
def test_out_of_range_arguments_are_refused(kwargs: dict, fragment: str) -> None:
    args = {"text": TEXT, "voice": "en-us", "speed": 160, "pitch": 50} | kwargs
    with pytest.raises(ToolArgumentError, match=fragment):
        tts.synthesize(**args)


def test_every_catalogue_voice_is_accepted_by_espeak() -> None:
    # One short word per language and per variant: a typo in the catalogue would fail here.
    for voice in [*tts.LANGUAGES, *(f"en-us+{v}" for v in tts.VARIANTS)]:
        assert tts.duration_s(tts.synthesize("yes", voice)) > 0.05, voice


def test_a_broken_stream_is_reported() -> None:
    with pytest.raises(RuntimeError, match="WAV"):
        tts.pcm_from_espeak_stream(b"not a wav at all")
    header_only = b"RIFF\xff\xff\xff\x7fWAVEfmt " + struct.pack("<I", 16) + bytes(16)
    with pytest.raises(RuntimeError):
        tts.pcm_from_espeak_stream(header_only)


def test_registered_tool_writes_the_same_bytes_and_records_them(tmp_path) -> None:
    ws = Workspace(tmp_path)
    result = default_registry.run(
        "tts", {"text": TEXT, "voice": "fr+f2", "output": "speech/a.wav"}, ws, seed=3
    )
    expected = tts.synthesize(TEXT, "fr+f2", 160, 50)
    assert ws.read_bytes("speech/a.wav") == expected
    assert result.files["audio"].sha256 == hashlib.sha256(expected).hexdigest()
    assert result.values["engine"].startswith("espeak-ng ")
    assert result.values["duration_ms"] == round(tts.duration_s(expected) * 1000)
    described = {t["name"]: t for t in default_registry.describe()}
    assert described["tts"]["family"] == "audio"
    assert "en-gb+f2" in described["tts"]["parameters"]["properties"]["voice"]["enum"]


@pytest.mark.parametrize(
    "args",
    [
        {"text": TEXT, "output": "../escape.wav"},
        {"text": TEXT, "output": "/tmp/abs.wav"},
        {"text": TEXT, "voice": "xx", "output": "a.wav"},
        {"text": TEXT, "speed": 1000, "output": "a.wav"},
        {"text": "", "output": "a.wav"},
        {"text": TEXT},
        {"text": TEXT, "output": "a.wav", "volume": 3},
    ],
)
def test_registered_tool_refuses_bad_calls_before_running(tmp_path, args: dict) -> None:
    with pytest.raises(ToolArgumentError, match="^tts: "):
        default_registry.run("tts", args, Workspace(tmp_path))
    assert list(tmp_path.iterdir()) == []
