"""Audio tools on real TTS output: dialogue, mixing, and noise at a measured SNR."""

from __future__ import annotations

import functools
import io
import json
import math
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tools.pure import audio, tts
from tools.registry import ToolArgumentError, default_registry
from tools.workspace import Workspace

RATE = tts.SAMPLE_RATE
REPO = Path(__file__).resolve().parents[2]


@functools.cache
def speech(
    text: str = "Shall we meet at the library at half past seven?", voice: str = "en-gb+f2"
) -> bytes:
    return tts.synthesize(text, voice)


def independent_snr(clean: bytes, noisy: bytes) -> float:
    """SNR of `noisy` against `clean`, estimating the clean share by projection (no trust
    in what the tool reports)."""
    s, o = audio.samples(clean), audio.samples(noisy)
    assert len(s) == len(o)
    gain = np.dot(o, s) / np.dot(s, s)
    return audio.snr_db(gain * s, o - gain * s)


def wav_bytes(values: np.ndarray, rate: int = RATE, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(values.tobytes())
    return buf.getvalue()


# ---------------------------------------------------------------------- dialogue


def test_concat_places_turns_after_their_pauses() -> None:
    a, b = speech(), speech("Sounds good to me.", "en-us+m3")
    out = audio.concat_turns([a, b, a], [500, 250], lead_ms=100, tail_ms=200)
    la, lb = len(audio.samples(a)), len(audio.samples(b))
    total = len(audio.samples(out.wav))
    expected = la + lb + la + audio.ms_to_samples(100 + 500 + 250 + 200)
    assert total == expected
    (s0, e0), (s1, e1), (s2, e2) = out.spans_ms
    assert s0 == 100 and s1 - e0 == 500 and s2 - e1 == 250
    values = audio.samples(out.wav)
    gap = values[audio.ms_to_samples(e0) + 5 : audio.ms_to_samples(s1) - 5]
    assert len(gap) > 0 and not gap.any()  # pauses are silence
    # the second turn is the second WAV, sample for sample
    start = audio.ms_to_samples(100) + la + audio.ms_to_samples(500)
    assert np.array_equal(values[start : start + lb], audio.samples(b))
    assert audio.concat_turns([a, b, a], [500, 250], 100, 200).wav == out.wav


@pytest.mark.parametrize(
    ("pauses", "fragment"),
    [([100], "2 gaps"), ([100, -1], "pauses_ms"), ([100, 10_001], "pauses_ms")],
)
def test_concat_refuses_bad_pauses(pauses: list[int], fragment: str) -> None:
    with pytest.raises(ToolArgumentError, match=fragment):
        audio.concat_turns([speech(), speech(), speech()], pauses)


def test_concat_refuses_no_turns_and_non_wav_input() -> None:
    with pytest.raises(ToolArgumentError):
        audio.concat_turns([])
    with pytest.raises(ToolArgumentError, match="WAV"):
        audio.concat_turns([b"RIFF0000WAVEjunk"])


def test_other_wav_formats_are_converted_to_the_canonical_one() -> None:
    stereo = np.zeros((RATE * 2, 2), dtype="<i2")  # 1 s at 44.1 kHz stereo
    stereo[:, 0] = 1000
    stereo[:, 1] = 3000
    values = audio.samples(wav_bytes(stereo, rate=44100, channels=2))
    assert len(values) == pytest.approx(RATE, abs=2)
    assert np.median(values) == pytest.approx(2000, abs=2)  # channels averaged


# -------------------------------------------------------------------------- mix


def test_mix_applies_gain_and_offset() -> None:
    a, b = speech(), speech("Sounds good to me.", "en-us+m3")
    la, lb = len(audio.samples(a)), len(audio.samples(b))
    offset = 700
    out = audio.samples(
        audio.mix([audio.Track(wav=a), audio.Track(wav=b, gain_db=-6.0, offset_ms=offset)])
    )
    start = audio.ms_to_samples(offset)
    assert len(out) == max(la, start + lb)
    assert np.array_equal(out[:start], audio.samples(a)[:start])
    expected = audio.samples(a)
    expected = np.pad(expected, (0, len(out) - la))
    expected[start : start + lb] += audio.samples(b) * 10 ** (-6 / 20)
    assert np.max(np.abs(out - expected)) <= 1.0  # only rounding


def test_mix_scales_instead_of_clipping() -> None:
    loud = np.full(RATE, 30000, dtype="<i2")
    out = audio.samples(audio.mix([audio.Track(wav=wav_bytes(loud))] * 3))
    assert np.max(np.abs(out)) == pytest.approx(audio.HEADROOM * audio.FULL_SCALE, abs=1)


@pytest.mark.parametrize(
    "track",
    [{"gain_db": 21.0}, {"gain_db": -61.0}, {"gain_db": math.nan}, {"offset_ms": -5}],
)
def test_mix_refuses_out_of_range_tracks(track: dict) -> None:
    with pytest.raises(ToolArgumentError):
        audio.mix([audio.Track(wav=speech(), **track)])


# ------------------------------------------------------------------------ noise


@pytest.mark.parametrize("kind", audio.NOISE_KINDS)
@pytest.mark.parametrize("snr", [-5.0, 0.0, 7.5, 20.0, 40.0])
def test_noise_reaches_the_target_snr(kind: str, snr: float) -> None:
    clean = speech()
    noisy = audio.add_noise(clean, snr, kind, seed=11)
    assert abs(noisy.achieved_snr_db - snr) < 0.5
    assert abs(independent_snr(clean, noisy.wav) - snr) < 0.5


@pytest.mark.parametrize("kind", audio.NOISE_KINDS)
def test_noise_is_deterministic_per_seed(kind: str) -> None:
    first = audio.add_noise(speech(), 5.0, kind, seed=4).wav
    assert audio.add_noise(speech(), 5.0, kind, seed=4).wav == first
    assert audio.add_noise(speech(), 5.0, kind, seed=5).wav != first


def test_loud_noise_is_scaled_not_clipped() -> None:
    noisy = audio.add_noise(speech(), -10.0, "white", seed=1)
    assert noisy.scale < 1.0
    assert np.max(np.abs(audio.samples(noisy.wav))) < audio.FULL_SCALE
    assert abs(noisy.achieved_snr_db + 10.0) < 0.5


def test_pink_noise_has_a_one_over_f_spectrum() -> None:
    n = 2**16
    slopes = []
    for seed in range(4):
        power = np.abs(np.fft.rfft(audio.pink_noise(n, seed))) ** 2
        freqs = np.fft.rfftfreq(n)
        band = (freqs > 1e-3) & (freqs < 0.3)
        slopes.append(np.polyfit(np.log(freqs[band]), np.log(power[band]), 1)[0])
    assert -1.15 < float(np.mean(slopes)) < -0.85
    white = np.abs(np.fft.rfft(audio.white_noise(n, 0))) ** 2
    band = (np.fft.rfftfreq(n) > 1e-3) & (np.fft.rfftfreq(n) < 0.3)
    assert abs(np.polyfit(np.log(np.fft.rfftfreq(n)[band]), np.log(white[band]), 1)[0]) < 0.1


def test_babble_is_speech_not_broadband_noise() -> None:
    n = RATE * 4
    babble = audio.babble_noise(n, seed=2, talkers=3)
    assert len(babble) == n and np.sqrt(np.mean(babble**2)) == pytest.approx(1.0, rel=1e-9)
    power = np.abs(np.fft.rfft(babble)) ** 2
    freqs = np.fft.rfftfreq(n, d=1 / RATE)
    assert power[freqs < 4000].sum() / power.sum() > 0.8  # white noise would give ~0.36
    # A speech envelope fluctuates; stationary noise's hardly does.
    frames = babble[: n // 441 * 441].reshape(-1, 441)
    envelope = np.sqrt((frames**2).mean(axis=1))
    assert np.std(envelope) / np.mean(envelope) > 0.3
    assert np.array_equal(audio.babble_noise(n, seed=2, talkers=3), babble)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"snr": 51.0}, "snr_db"),
        ({"snr": -11.0}, "snr_db"),
        ({"snr": math.inf}, "snr_db"),
        ({"kind": "brown"}, "kind"),
        ({"seed": -1}, "seed"),
        ({"kind": "babble", "talkers": 1}, "talkers"),
        ({"kind": "babble", "talkers": 9}, "talkers"),
    ],
)
def test_noise_refuses_out_of_range_arguments(kwargs: dict, fragment: str) -> None:
    args = {"snr": 10.0, "kind": "white", "seed": 0} | kwargs
    with pytest.raises(ToolArgumentError, match=fragment):
        audio.add_noise(speech(), **args)


def test_noise_on_silence_is_refused() -> None:
    with pytest.raises(ToolArgumentError, match="silent"):
        audio.add_noise(wav_bytes(np.zeros(RATE, dtype="<i2")), 10.0)


# ---------------------------------------------------------------- registered tools


def test_registered_audio_tools_chain_in_a_workspace(tmp_path) -> None:
    ws = Workspace(tmp_path)
    run = default_registry.run
    run("tts", {"text": "Hi, this is Maria.", "voice": "en-gb+f2", "output": "a.wav"}, ws)
    dialogue = run(
        "audio_dialogue",
        {
            "turns": [
                {"input": "a.wav"},
                {"text": "Hello Maria.", "voice": "en-us+m3", "pitch": 30},
            ],
            "pauses_ms": [300],
            "output": "d.wav",
        },
        ws,
    )
    (_, e0), (s1, _) = dialogue.values["spans_ms"]
    assert s1 - e0 == 300
    mixed = run(
        "audio_mix",
        {
            "tracks": [{"input": "d.wav"}, {"input": "a.wav", "gain_db": -12, "offset_ms": 500}],
            "output": "m.wav",
        },
        ws,
    )
    assert mixed.files["audio"].path == "m.wav"
    longest = max(
        dialogue.values["duration_ms"], 500 + tts.duration_s(ws.read_bytes("a.wav")) * 1000
    )
    assert abs(mixed.values["duration_ms"] - longest) <= 1
    noisy = run(
        "audio_noise",
        {"input": "m.wav", "output": "n.wav", "snr_db": 3, "kind": "pink"},
        ws,
        seed=8,
    )
    assert abs(noisy.values["achieved_snr_db"] - 3) < 0.5
    assert abs(independent_snr(ws.read_bytes("m.wav"), ws.read_bytes("n.wav")) - 3) < 0.5
    again = run(
        "audio_noise",
        {"input": "m.wav", "output": "n2.wav", "snr_db": 3, "kind": "pink"},
        ws,
        seed=8,
    )
    other = run(
        "audio_noise",
        {"input": "m.wav", "output": "n3.wav", "snr_db": 3, "kind": "pink"},
        ws,
        seed=9,
    )
    assert again.files["audio"].sha256 == noisy.files["audio"].sha256
    assert other.files["audio"].sha256 != noisy.files["audio"].sha256


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("audio_noise", {"input": "../x.wav", "output": "n.wav", "snr_db": 3}),
        ("audio_noise", {"input": "a.wav", "output": "n.wav", "snr_db": 99}),
        ("audio_noise", {"input": "a.wav", "output": "n.wav", "snr_db": 3, "kind": "brown"}),
        ("audio_noise", {"input": "missing.wav", "output": "n.wav", "snr_db": 3}),
        ("audio_mix", {"tracks": [], "output": "m.wav"}),
        ("audio_mix", {"tracks": [{"input": "a.wav", "gain_db": 40}], "output": "m.wav"}),
        ("audio_dialogue", {"turns": [{"input": "a.wav"}], "pauses_ms": [100], "output": "d.wav"}),
        ("audio_dialogue", {"turns": [{"text": "hi", "voice": "nope"}], "output": "d.wav"}),
        ("audio_dialogue", {"turns": [{"input": "a.wav", "text": "hi"}], "output": "d.wav"}),
    ],
)
def test_registered_audio_tools_refuse_bad_calls(tmp_path, name: str, args: dict) -> None:
    ws = Workspace(tmp_path)
    ws.write_bytes("a.wav", speech())
    with pytest.raises(ToolArgumentError, match=f"^{name}: "):
        default_registry.run(name, args, ws)


CHAIN = r"""
import json, sys
from tools.registry import load_builtin_tools
from tools.workspace import Workspace

ws = Workspace(sys.argv[1])
registry = load_builtin_tools()
calls = [
    ("tts", {"text": "Hi, this is Maria.", "voice": "en-gb+f2", "output": "a.wav"}),
    ("audio_dialogue", {"turns": [{"input": "a.wav"}, {"text": "Hello.", "voice": "de+m3"}],
                        "pauses_ms": 250, "output": "d.wav"}),
    ("audio_mix", {"tracks": [{"input": "d.wav"}, {"input": "a.wav", "gain_db": -3.5,
                   "offset_ms": 120}], "output": "m.wav"}),
    ("audio_noise", {"input": "m.wav", "output": "w.wav", "snr_db": 4.5, "kind": "white"}),
    ("audio_noise", {"input": "m.wav", "output": "p.wav", "snr_db": 4.5, "kind": "pink"}),
    ("audio_noise", {"input": "m.wav", "output": "b.wav", "snr_db": 4.5, "kind": "babble",
                     "talkers": 3}),
]
print(json.dumps([registry.run(n, a, ws, seed=5).outputs() for n, a in calls], sort_keys=True))
"""


def test_every_audio_tool_gives_the_same_bytes_in_other_processes(tmp_path) -> None:
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", CHAIN, str(tmp_path / hash_seed)],
            capture_output=True, text=True, env=env, cwd=REPO, check=True,
        )  # fmt: skip
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1
    recorded = json.loads(outputs.pop())
    assert len(recorded) == 6 and all("audio" in r for r in recorded)
    assert len({r["audio"] for r in recorded}) == 6  # every step changed the audio
