"""Throughput of the audio tools and of the causal-physics and speech generators.

    .venv/bin/python perf/audio_and_physics.py [--causal 200] [--speech 20] [--tts 40]

Prints, on this machine:
- TTS: seconds of speech synthesised per wall-clock second (espeak-ng, several voices);
- causal_physics: instances per second, sampled *and verified* (the issue's figure,
  target >= 20/s), and with PNG rendering of the eight frames on top;
- speech_dialogue: seconds of noisy dialogue audio per wall-clock second for sample +
  verify (which synthesises and mixes the audio) + render to WAV (target >= 5).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tools.generators.causal_physics import CausalPhysicsGenerator
from tools.generators.speech_dialogue import SpeechDialogueGenerator
from tools.pure import tts

SENTENCES = (
    "Hi, this is Maria. How about we meet at the library at half past seven on Tuesday?",
    "I will take care of seventeen sandwiches and some bottles of water.",
    "Could you repeat that more slowly? The line is rather noisy today.",
    "I should get to the train station around a quarter past two.",
)
VOICES = ("en-us+m3", "en-gb+f2", "fr+m1", "de+f4", "es+m7")


def bench_tts(n: int) -> None:
    audio_s = 0.0
    start = time.perf_counter()
    for i in range(n):
        wav = tts.synthesize(SENTENCES[i % len(SENTENCES)], VOICES[i % len(VOICES)], 160 + i % 40)
        audio_s += tts.duration_s(wav)
    wall = time.perf_counter() - start
    print(f"tts: {n} utterances, {audio_s:.1f} s of audio in {wall:.2f} s "
          f"= {audio_s / wall:.1f} audio-s per wall-s")  # fmt: skip


def bench_causal(n: int) -> None:
    gen = CausalPhysicsGenerator()
    start = time.perf_counter()
    instances = []
    for seed in range(n):
        instance = gen.sample(seed)
        assert all(c.passed for c in gen.verify(instance)), seed
        instances.append(instance)
    wall = time.perf_counter() - start
    print(f"causal_physics: {n} instances sampled+verified in {wall:.2f} s = {n / wall:.1f}/s")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for instance in instances:
            gen.render(instance, Path(tmp))
        render = time.perf_counter() - start
    print(f"causal_physics: + render 8 PNGs: {n / (wall + render):.1f} instances/s "
          f"(render alone {n / render:.1f}/s)")  # fmt: skip


def bench_speech(n: int) -> None:
    gen = SpeechDialogueGenerator()
    audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for seed in range(n):
            instance = gen.sample(seed)
            assert all(c.passed for c in gen.verify(instance)), seed
            item = gen.render(instance, Path(tmp))
            audio_s += item.metadata["duration_s"]
        wall = time.perf_counter() - start
    print(f"speech_dialogue: {n} instances, {audio_s:.1f} s of audio in {wall:.2f} s "
          f"= {audio_s / wall:.1f} audio-s per wall-s ({n / wall:.2f} instances/s, "
          "sample+verify+render, babble warm-up included)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tts", type=int, default=40, help="utterances to synthesise")
    parser.add_argument("--causal", type=int, default=200, help="causal instances")
    parser.add_argument("--speech", type=int, default=20, help="speech instances")
    args = parser.parse_args()
    bench_tts(args.tts)
    bench_causal(args.causal)
    bench_speech(args.speech)


if __name__ == "__main__":
    main()
