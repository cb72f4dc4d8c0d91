"""Audio tools on WAV bytes: dialogue concatenation, mixing, noise at a target SNR.

Everything is WAV (PCM), so no ffmpeg is needed: pydub carries and resamples segments,
numpy does the arithmetic. Every output is resampled to one canonical format (22,050 Hz,
mono, 16-bit: espeak-ng's native format) so that tools compose without surprises, and
every random choice comes from a ``numpy.random.Generator`` seeded by the caller, so
the same arguments always give the same bytes.

SNR is defined over the whole clip: 10·log10(Σ signal² / Σ noise²). When signal plus
noise would clip, both are scaled by the same factor, which leaves the SNR unchanged;
the SNR actually achieved after 16-bit rounding is measured and returned.
"""

from __future__ import annotations

import functools
import io
import math
import warnings
import wave
from collections.abc import Sequence

import msgspec
import numpy as np
import scipy.fft

from tools.pure import tts
from tools.registry import ToolArgumentError, ToolContext, tool

with warnings.catch_warnings():
    # pydub warns at import that ffmpeg is missing; we only ever use its WAV paths.
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment

SAMPLE_RATE = tts.SAMPLE_RATE
SAMPLE_WIDTH = 2
FULL_SCALE = 32767.0
HEADROOM = 0.98  # peak level a mix is scaled down to when it would clip

NOISE_KINDS: tuple[str, ...] = ("white", "pink", "babble")
SNR_RANGE_DB = (-10.0, 50.0)
GAIN_RANGE_DB = (-60.0, 20.0)
PAUSE_RANGE_MS = (0, 10_000)
OFFSET_RANGE_MS = (0, 600_000)
TALKERS_RANGE = (2, 8)
MAX_SEED = 2**63 - 1

# Neutral sentences for babble: no names, places, times or numbers that a dialogue
# question could ask about, so babble never competes with a script's answer.
BABBLE_SENTENCES: tuple[str, ...] = (
    "The weather has been rather changeable over the last few weeks.",
    "I think the new design looks much cleaner than the old one.",
    "Could you pass me the blue folder on the shelf over there?",
    "Everyone agreed that the soup needed a little more salt.",
    "The garden looks lovely when the flowers are in bloom.",
    "We should probably ask them before we change anything else.",
    "It took a while, but the machine finally started working again.",
    "They say the river gets very quiet later in the evening.",
    "Honestly, the second option seems a lot more sensible to me.",
    "The children were laughing at something on the television.",
    "Please remember to close the window when you leave the room.",
    "The coffee here is much stronger than what we usually drink.",
)
BABBLE_VOICES: tuple[str, ...] = (
    "en-us+m1", "en-gb+f1", "en-us+f3", "en-gb+m3", "fr+m2", "de+f2", "es+m4", "it+f4",
)  # fmt: skip


class DialogueAudio(msgspec.Struct, frozen=True, kw_only=True):
    wav: bytes
    spans_ms: list[tuple[int, int]]  # start and end of each turn in the output
    duration_ms: int


class NoisyAudio(msgspec.Struct, frozen=True, kw_only=True):
    wav: bytes
    target_snr_db: float
    achieved_snr_db: float
    scale: float  # factor applied to the clean signal (< 1 when the mix would clip)


# --------------------------------------------------------------------- conversion


def decode(wav_bytes: bytes) -> AudioSegment:
    """A WAV file as a pydub segment in the canonical format; refuses anything not PCM WAV."""
    if not isinstance(wav_bytes, bytes | bytearray) or not wav_bytes:
        raise ToolArgumentError("audio must be non-empty WAV bytes")
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as w:
            params = w.getparams()
            frames = w.readframes(params.nframes)
    except (wave.Error, EOFError) as exc:
        raise ToolArgumentError(f"not a PCM WAV file: {exc}") from None
    if params.sampwidth not in (1, 2, 4):
        raise ToolArgumentError(f"unsupported WAV sample width {params.sampwidth}")
    if params.sampwidth == 1:  # WAV stores 8-bit unsigned; pydub wants signed
        frames = (np.frombuffer(frames, np.uint8).astype(np.int16) - 128).astype(np.int8).tobytes()
    seg = AudioSegment(
        data=frames,
        sample_width=params.sampwidth,
        frame_rate=params.framerate,
        channels=params.nchannels,
    )
    return seg.set_channels(1).set_sample_width(SAMPLE_WIDTH).set_frame_rate(SAMPLE_RATE)


def samples(wav_bytes: bytes) -> np.ndarray:
    """The canonical-format samples of a WAV file as float64 (int16 scale)."""
    return np.frombuffer(decode(wav_bytes).raw_data, dtype="<i2").astype(np.float64)


def encode(values: np.ndarray) -> bytes:
    """Round float samples (int16 scale, already within range) to a canonical WAV."""
    pcm = np.clip(np.rint(values), -FULL_SCALE - 1, FULL_SCALE).astype("<i2").tobytes()
    seg = AudioSegment(data=pcm, sample_width=SAMPLE_WIDTH, frame_rate=SAMPLE_RATE, channels=1)
    buf = io.BytesIO()
    seg.export(buf, format="wav")
    return buf.getvalue()


def power(values: np.ndarray) -> float:
    return float(np.dot(values, values) / max(len(values), 1))


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """10·log10(Σ signal² / Σ noise²) over the whole clip."""
    noise_energy = float(np.dot(noise, noise))
    if noise_energy == 0.0:
        return math.inf
    return 10.0 * math.log10(float(np.dot(signal, signal)) / noise_energy)


def ms_to_samples(ms: float) -> int:
    return int(round(ms * SAMPLE_RATE / 1000.0))


def samples_to_ms(n: int) -> int:
    return int(round(n * 1000.0 / SAMPLE_RATE))


# ------------------------------------------------------------------- validation


def _check_range(
    name: str, value: float, bounds: tuple[float, float], integer: bool = False
) -> None:
    low, high = bounds
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise ToolArgumentError(
            f"{name} must be a {'integer' if integer else 'number'}, got {value!r}"
        )
    if not low <= value <= high:
        raise ToolArgumentError(f"{name} must be in [{low}, {high}], got {value!r}")


def _check_seed(seed: int) -> None:
    _check_range("seed", seed, (0, MAX_SEED), integer=True)


# ------------------------------------------------------------------ composition


def concat_turns(
    turns: Sequence[bytes], pauses_ms: int | Sequence[int] = 400, lead_ms: int = 0, tail_ms: int = 0
) -> DialogueAudio:
    """Join speech turns with silences between them (one pause for all gaps, or one per gap)."""
    if not turns:
        raise ToolArgumentError("turns must list at least one WAV")
    gaps = [pauses_ms] * (len(turns) - 1) if isinstance(pauses_ms, int) else list(pauses_ms)
    if len(gaps) != len(turns) - 1:
        raise ToolArgumentError(f"pauses_ms lists {len(gaps)} pauses for {len(turns) - 1} gaps")
    for name, value in [("lead_ms", lead_ms), ("tail_ms", tail_ms)] + [
        (f"pauses_ms[{i}]", g) for i, g in enumerate(gaps)
    ]:
        _check_range(name, value, PAUSE_RANGE_MS, integer=True)
    parts: list[np.ndarray] = [np.zeros(ms_to_samples(lead_ms))]
    spans: list[tuple[int, int]] = []
    cursor = len(parts[0])
    for i, turn in enumerate(turns):
        values = samples(turn)
        spans.append((samples_to_ms(cursor), samples_to_ms(cursor + len(values))))
        parts.append(values)
        cursor += len(values)
        silence = ms_to_samples(gaps[i] if i < len(gaps) else tail_ms)
        parts.append(np.zeros(silence))
        cursor += silence
    joined = np.concatenate(parts)
    return DialogueAudio(wav=encode(joined), spans_ms=spans, duration_ms=samples_to_ms(len(joined)))


class Track(msgspec.Struct, frozen=True, kw_only=True):
    wav: bytes
    gain_db: float = 0.0
    offset_ms: int = 0


def mix(tracks: Sequence[Track]) -> bytes:
    """Overlay tracks, each with a gain in dB and a start offset; the result is as long as
    the longest one. Sums over full scale are scaled down as a whole (never clipped)."""
    if not tracks:
        raise ToolArgumentError("tracks must list at least one track")
    placed: list[tuple[int, np.ndarray]] = []
    for i, track in enumerate(tracks):
        _check_range(f"tracks[{i}].gain_db", track.gain_db, GAIN_RANGE_DB)
        _check_range(f"tracks[{i}].offset_ms", track.offset_ms, OFFSET_RANGE_MS, integer=True)
        values = samples(track.wav) * 10.0 ** (track.gain_db / 20.0)
        placed.append((ms_to_samples(track.offset_ms), values))
    total = np.zeros(max(start + len(v) for start, v in placed))
    for start, values in placed:
        total[start : start + len(values)] += values
    return encode(total * _headroom_scale(total))


def _headroom_scale(values: np.ndarray) -> float:
    peak = float(np.max(np.abs(values))) if len(values) else 0.0
    return 1.0 if peak <= FULL_SCALE else HEADROOM * FULL_SCALE / peak


# ------------------------------------------------------------------------- noise


def white_noise(n: int, seed: int) -> np.ndarray:
    """Unit-variance Gaussian white noise."""
    return np.random.default_rng(seed).standard_normal(n)


def pink_noise(n: int, seed: int) -> np.ndarray:
    """Unit-variance 1/f noise: white noise shaped in the frequency domain (power ∝ 1/f).

    Shaped at a length with small prime factors (fast FFT), then cut to ``n``.
    """
    if n == 0:
        return np.zeros(0)
    size = scipy.fft.next_fast_len(n, real=True)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(size))
    freqs = np.fft.rfftfreq(size)
    shaping = np.zeros_like(freqs)
    shaping[1:] = 1.0 / np.sqrt(freqs[1:])  # amplitude ∝ f^-1/2; no DC
    pink = np.fft.irfft(spectrum * shaping, size)[:n]
    return pink / (np.std(pink) or 1.0)


@functools.lru_cache(maxsize=256)
def _babble_utterance(text: str, voice: str) -> np.ndarray:
    values = samples(tts.synthesize(text, voice=voice, speed=175, pitch=50))
    values.setflags(write=False)
    return values


def babble_noise(n: int, seed: int, talkers: int = 4) -> np.ndarray:
    """Several TTS talkers, each saying random neutral sentences from a random start,
    each at the same loudness, summed and normalised to unit variance."""
    _check_range("talkers", talkers, TALKERS_RANGE, integer=True)
    rng = np.random.default_rng(seed)
    voices = [BABBLE_VOICES[i] for i in rng.permutation(len(BABBLE_VOICES))[:talkers]]
    total = np.zeros(n)
    for voice in voices:
        stream: list[np.ndarray] = []
        length = 0
        start = int(rng.integers(0, SAMPLE_RATE))  # talkers do not start in unison
        while length < n + start:
            text = BABBLE_SENTENCES[int(rng.integers(len(BABBLE_SENTENCES)))]
            utterance = _babble_utterance(text, voice)
            stream.append(utterance)
            gap = np.zeros(int(rng.integers(SAMPLE_RATE // 20, SAMPLE_RATE // 4)))
            stream.append(gap)
            length += len(utterance) + len(gap)
        talker = np.concatenate(stream)[start : start + n]
        total += talker / math.sqrt(power(talker) or 1.0)
    return total / math.sqrt(power(total) or 1.0)


def make_noise(kind: str, n: int, seed: int, talkers: int = 4) -> np.ndarray:
    if kind == "white":
        return white_noise(n, seed)
    if kind == "pink":
        return pink_noise(n, seed)
    if kind == "babble":
        return babble_noise(n, seed, talkers)
    raise ToolArgumentError(f"noise kind must be one of {', '.join(NOISE_KINDS)}, got {kind!r}")


def add_noise(
    wav_bytes: bytes, snr: float, kind: str = "white", seed: int = 0, talkers: int = 4
) -> NoisyAudio:
    """Add ``kind`` noise so that the clip's SNR is ``snr`` dB; returns the achieved SNR."""
    _check_range("snr_db", snr, SNR_RANGE_DB)
    _check_seed(seed)
    if kind not in NOISE_KINDS:
        raise ToolArgumentError(f"noise kind must be one of {', '.join(NOISE_KINDS)}, got {kind!r}")
    signal = samples(wav_bytes)
    signal_power = power(signal)
    if signal_power == 0.0:
        raise ToolArgumentError("the audio is silent: an SNR is undefined")
    noise = make_noise(kind, len(signal), seed, talkers)
    noise *= math.sqrt(signal_power / (power(noise) * 10.0 ** (snr / 10.0)))
    mixed = signal + noise
    scale = _headroom_scale(mixed)
    out = encode(mixed * scale)
    achieved = snr_db(signal * scale, samples(out) - signal * scale)
    return NoisyAudio(wav=out, target_snr_db=float(snr), achieved_snr_db=achieved, scale=scale)


# --------------------------------------------------------------- registered tools


def _seed_from(ctx: ToolContext, key: str) -> int:
    return int(ctx.rng(key).integers(0, MAX_SEED))


_TURN_SCHEMA: dict = {
    "type": "object",
    "oneOf": [
        {
            "properties": {"input": {"type": "string", "format": "ws-path"}},
            "required": ["input"],
            "additionalProperties": False,
        },
        {
            "properties": {
                "text": tts.TTS_PARAMETERS["properties"]["text"],
                "voice": tts.TTS_PARAMETERS["properties"]["voice"],
                "speed": tts.TTS_PARAMETERS["properties"]["speed"],
                "pitch": tts.TTS_PARAMETERS["properties"]["pitch"],
            },
            "required": ["text", "voice"],
            "additionalProperties": False,
        },
    ],
}
_PAUSE_SCHEMA: dict = {
    "type": "integer",
    "minimum": PAUSE_RANGE_MS[0],
    "maximum": PAUSE_RANGE_MS[1],
}


def _check_dialogue(args: dict) -> None:
    pauses = args["pauses_ms"]
    if isinstance(pauses, list) and len(pauses) != len(args["turns"]) - 1:
        raise ToolArgumentError(
            f"pauses_ms lists {len(pauses)} pauses for {len(args['turns']) - 1} gaps between turns"
        )
    for i, turn in enumerate(args["turns"]):
        if "text" in turn:
            try:
                tts.validate_args(
                    turn["text"], turn["voice"], turn.get("speed", 160), turn.get("pitch", 50)
                )
            except ToolArgumentError as exc:
                raise ToolArgumentError(f"turns[{i}]: {exc.message}") from None


@tool(
    name="audio_dialogue",
    version="1",
    family="audio",
    description=(
        "Concatenate turns into one multi-speaker dialogue WAV with pauses between turns. "
        "Each turn is either an existing WAV ({input}) or speech to synthesize "
        "({text, voice, speed, pitch}). Returns each turn's start and end in ms."
    ),
    parameters={
        "type": "object",
        "properties": {
            "turns": {"type": "array", "items": _TURN_SCHEMA, "minItems": 1, "maxItems": 200},
            "pauses_ms": {
                "oneOf": [_PAUSE_SCHEMA, {"type": "array", "items": _PAUSE_SCHEMA}],
                "default": 400,
            },
            "lead_ms": {**_PAUSE_SCHEMA, "default": 0},
            "tail_ms": {**_PAUSE_SCHEMA, "default": 0},
            "output": {"type": "string", "format": "ws-output-path"},
        },
        "required": ["turns", "output"],
        "additionalProperties": False,
    },
    check=_check_dialogue,
)
def dialogue_tool(ctx: ToolContext, args: dict) -> dict:
    wavs = [
        ctx.read_bytes(turn["input"])
        if "input" in turn
        else tts.synthesize(
            turn["text"], turn["voice"], turn.get("speed", 160), turn.get("pitch", 50)
        )
        for turn in args["turns"]
    ]
    dialogue = concat_turns(wavs, args["pauses_ms"], args["lead_ms"], args["tail_ms"])
    ctx.write_file("audio", args["output"], dialogue.wav)
    return {"spans_ms": [list(s) for s in dialogue.spans_ms], "duration_ms": dialogue.duration_ms}


@tool(
    name="audio_mix",
    version="1",
    family="audio",
    description=(
        "Overlay WAV tracks, each with a relative gain in dB and a start offset in ms; the "
        "mix lasts as long as the longest track and is scaled down as a whole if it would clip."
    ),
    parameters={
        "type": "object",
        "properties": {
            "tracks": {
                "type": "array",
                "minItems": 1,
                "maxItems": 64,
                "items": {
                    "type": "object",
                    "properties": {
                        "input": {"type": "string", "format": "ws-path"},
                        "gain_db": {
                            "type": "number",
                            "minimum": GAIN_RANGE_DB[0],
                            "maximum": GAIN_RANGE_DB[1],
                            "default": 0,
                        },
                        "offset_ms": {
                            "type": "integer",
                            "minimum": OFFSET_RANGE_MS[0],
                            "maximum": OFFSET_RANGE_MS[1],
                            "default": 0,
                        },
                    },
                    "required": ["input"],
                    "additionalProperties": False,
                },
            },
            "output": {"type": "string", "format": "ws-output-path"},
        },
        "required": ["tracks", "output"],
        "additionalProperties": False,
    },
)
def mix_tool(ctx: ToolContext, args: dict) -> dict:
    tracks = [
        Track(
            wav=ctx.read_bytes(t["input"]),
            gain_db=t.get("gain_db", 0.0),
            offset_ms=t.get("offset_ms", 0),
        )
        for t in args["tracks"]
    ]
    wav = mix(tracks)
    ctx.write_file("audio", args["output"], wav)
    return {"duration_ms": round(tts.duration_s(wav) * 1000)}


@tool(
    name="audio_noise",
    version="1",
    family="audio",
    description=(
        "Add noise to a WAV at a target signal-to-noise ratio in dB (over the whole clip): "
        "white, pink (1/f) or babble (several synthetic talkers). Seeded; returns the SNR "
        "actually achieved after 16-bit rounding."
    ),
    parameters={
        "type": "object",
        "properties": {
            "input": {"type": "string", "format": "ws-path"},
            "output": {"type": "string", "format": "ws-output-path"},
            "snr_db": {"type": "number", "minimum": SNR_RANGE_DB[0], "maximum": SNR_RANGE_DB[1]},
            "kind": {"type": "string", "enum": list(NOISE_KINDS), "default": "white"},
            "talkers": {
                "type": "integer",
                "minimum": TALKERS_RANGE[0],
                "maximum": TALKERS_RANGE[1],
                "default": 4,
            },
        },
        "required": ["input", "output", "snr_db"],
        "additionalProperties": False,
    },
)
def noise_tool(ctx: ToolContext, args: dict) -> dict:
    noisy = add_noise(
        ctx.read_bytes(args["input"]),
        args["snr_db"],
        args["kind"],
        seed=_seed_from(ctx, "noise"),
        talkers=args["talkers"],
    )
    ctx.write_file("audio", args["output"], noisy.wav)
    return {"achieved_snr_db": round(noisy.achieved_snr_db, 4), "scale": round(noisy.scale, 6)}
