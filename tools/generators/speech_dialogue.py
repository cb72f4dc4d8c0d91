"""Noisy multi-speaker speech (issue 5, generator 5).

A scripted dialogue (``speech_script``) is spoken by 2-4 distinct espeak-ng voices,
joined with pauses and mixed with white, pink or babble noise at a target SNR. The
question asks for the number of speakers, who said something, or a speaker's key
information; the answer comes from the script, so it is correct by construction.

Verification: every speaker has their own voice and introduces themselves, the answer
is stated exactly once in the script and by the right speaker, and the SNR achieved in
the rendered audio is within ``SNR_TOLERANCE_DB`` of the target. The audio is a pure
function of the instance; the last one built is kept so that verify + render of one
instance synthesises it once.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from tools.generators import speech_script as script_mod
from tools.generators.base import CheckResult, Instance, ParamError, ParamSpec, RenderedItem, Score
from tools.generators.card_format import field, generator_card
from tools.generators.param_sampling import derived_seed, resolve_params
from tools.generators.rendering import check_mode
from tools.pure import audio, tts
from tools.workspace import Workspace

SNR_TOLERANCE_DB = 0.5
PAUSE_MS = (250, 800)
SPEED = (150, 185)
MODES = ("default", "transcript")
SEED_BITS = 63  # seeds stay below 2**63, numpy's seed range

# Clearly different voices: a different variant, and two accents with pitches far apart.
VOICES: tuple[tuple[str, int], ...] = (
    ("en-us+m3", 35),
    ("en-gb+f2", 65),
    ("en-gb+m1", 45),
    ("en-us+f4", 80),
    ("en-us+m7", 55),
    ("en-gb+f5", 50),
)

PARAMS: list[ParamSpec] = [
    ParamSpec(name="speakers", kind="int", low=2, high=4, description="number of speakers"),
    ParamSpec(name="turns", kind="int", low=2, high=12,
              description="turns in the dialogue (at least one per speaker)"),
    ParamSpec(name="snr_min", kind="float", low=-5.0, high=30.0, default=0.0,
              description="lowest signal-to-noise ratio in dB"),
    ParamSpec(name="snr_max", kind="float", low=-5.0, high=30.0, default=20.0,
              description="highest signal-to-noise ratio in dB"),
    ParamSpec(name="noise", kind="choice", choices=list(audio.NOISE_KINDS),
              description="noise type: white, pink (1/f) or babble (other talkers)"),
    ParamSpec(name="question", kind="choice", choices=list(script_mod.QUESTION_KINDS),
              description="what is asked: speaker count, who said what, a speaker's key info"),
]  # fmt: skip


class SpokenDialogue(msgspec.Struct, frozen=True, kw_only=True):
    clean: bytes  # the dialogue without noise
    wav: bytes  # the noisy mix
    duration_s: float
    spans_ms: list[tuple[int, int]]


class SpeechDialogueGenerator:
    name = "speech_dialogue"
    version = "1"
    params = PARAMS

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[bytes, SpokenDialogue] | None = None

    def card(self) -> dict[str, Any]:
        return generator_card(
            self,
            title="Noisy Multi-Speaker Speech Dialogues (procedural)",
            modalities=["audio", "text"],
            inputs=["audio", "text"],
            description=(
                "Procedurally generated spoken dialogues between 2-4 synthetic speakers with "
                "distinct voices, mixed with white, pink or babble noise at a controlled SNR, "
                "with a question on speaker count, who said what, or a speaker's key details."
            ),
            card_text=(
                "Each item is a WAV recording of a short scripted conversation in English. "
                "Speakers introduce themselves by name and propose meeting places, times and "
                "days, arrival times, or items they will bring. The recording is mixed with "
                "noise (white, pink or babble made of other synthetic talkers) at a "
                "signal-to-noise ratio between -5 and 30 dB. The question asks how many people "
                "speak, who said a given thing, or what a named speaker proposed; the answer is "
                "a number, a name, or a few short facts, taken from the script. It evaluates "
                "speech understanding, speaker attribution and robustness to noise."
            ),
            tasks=["audio_question_answering", "speaker_counting", "speaker_attribution"],
            domain="spoken dialogue",
            fields={
                "question": field(
                    "input", "text", "The question about the recording.", style="instruction"
                ),
                "audio": field(
                    "media",
                    "audio",
                    "The noisy dialogue recording (WAV).",
                    style="synthetic",
                    extent="medium",
                    path_type="list",
                ),
                "answer": field("target", "text", "The answer taken from the script."),
            },
            structure=(
                "Each record has one WAV recording of a noisy multi-speaker dialogue, a "
                "question about it, and a short answer (number, name or facts)."
            ),
        )

    # ---------------------------------------------------------------- sampling

    def resolve(self, seed: int, params: dict[str, Any] | None) -> dict[str, Any]:
        rng = random.Random(derived_seed(self.name, "params", seed, bits=SEED_BITS))
        values, drawn = resolve_params(self.params, params, rng)
        if values["turns"] < values["speakers"]:
            if "turns" not in drawn and "speakers" not in drawn:
                raise ParamError(
                    f"turns={values['turns']} is fewer than speakers={values['speakers']}: "
                    "every speaker needs a turn"
                )
            values["turns"] = values["speakers"]
        if values["snr_min"] > values["snr_max"]:
            raise ParamError(f"snr_min={values['snr_min']} exceeds snr_max={values['snr_max']}")
        return values

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        values = self.resolve(seed, params)
        rng = random.Random(derived_seed(self.name, seed, bits=SEED_BITS))
        names, script = script_mod.build_script(rng, values["speakers"], values["turns"])
        voices = rng.sample(VOICES, values["speakers"])
        speakers = [
            {"name": name, "voice": voice, "pitch": pitch, "speed": rng.randint(*SPEED)}
            for name, (voice, pitch) in zip(names, voices, strict=True)
        ]
        question, answer = script_mod.make_question(rng, values["question"], names, script)
        content = {
            "speakers": speakers,
            "turns": script,
            "pauses_ms": [rng.randint(*PAUSE_MS) for _ in range(len(script) - 1)],
            "noise": values["noise"],
            "snr_db": round(rng.uniform(values["snr_min"], values["snr_max"]), 1),
            "noise_seed": derived_seed(self.name, "noise", seed, bits=SEED_BITS),
            "question": question,
        }
        return Instance(
            generator=self.name,
            seed=seed,
            params=values,
            content=content,
            answer=answer,
            complexity=complexity_of(content),
        )

    # ------------------------------------------------------------------- audio

    def audio(self, instance: Instance) -> SpokenDialogue:
        """The noisy dialogue of an instance (cached for the last instance built)."""
        key = msgspec.json.encode(instance.content, order="sorted")
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
        c = instance.content
        wavs = []
        for turn in c["turns"]:
            speaker = c["speakers"][turn["speaker"]]
            wavs.append(
                tts.synthesize(turn["text"], speaker["voice"], speaker["speed"], speaker["pitch"])
            )
        dialogue = audio.concat_turns(wavs, c["pauses_ms"], lead_ms=300, tail_ms=300)
        noisy = audio.add_noise(dialogue.wav, c["snr_db"], c["noise"], seed=c["noise_seed"])
        built = SpokenDialogue(
            clean=dialogue.wav,
            wav=noisy.wav,
            duration_s=dialogue.duration_ms / 1000.0,
            spans_ms=dialogue.spans_ms,
        )
        with self._lock:
            self._last = (key, built)
        return built

    # ------------------------------------------------------------------ checks

    def verify(self, instance: Instance) -> list[CheckResult]:
        c = instance.content
        return [
            check_voices(c),
            check_answer(c, instance.answer),
            self._check_snr(instance),
        ]

    def _check_snr(self, instance: Instance) -> CheckResult:
        try:
            built = self.audio(instance)
        except Exception as exc:  # an unbuildable instance fails its check, with the reason
            return CheckResult(check="snr", passed=False, reason=f"audio could not be built: {exc}")
        target = instance.content["snr_db"]
        achieved = measured_snr_db(built.clean, built.wav)
        error = abs(achieved - target)
        low, high = instance.params["snr_min"], instance.params["snr_max"]
        in_range = low - 1e-9 <= target <= high + 1e-9
        ok = error <= SNR_TOLERANCE_DB and in_range
        return CheckResult(
            check="snr",
            passed=ok,
            reason=f"achieved {achieved:.2f} dB for a target of {target} dB "
            f"(tolerance {SNR_TOLERANCE_DB} dB, range [{low}, {high}])",
        )

    # ----------------------------------------------------------------- scoring

    def score(self, instance: Instance, answer: str) -> Score:
        kind = instance.content["question"]["kind"]
        text = answer if isinstance(answer, str) else ""
        if kind == "speaker_count":
            count = script_mod.parse_count(text)
            ok = count == instance.answer
            return Score(
                correct=ok, score=float(ok), detail={"parsed": count, "expected": instance.answer}
            )
        if kind == "who_said":
            names = [s["name"] for s in instance.content["speakers"]]
            named = [n for n in names if script_mod.mentions(text, n)]
            ok = named == [instance.answer]
            return Score(
                correct=ok, score=float(ok), detail={"named": named, "expected": instance.answer}
            )
        found = {
            slot: script_mod.value_matches(slot, text, value)
            for slot, value in sorted(instance.answer.items())
        }
        fraction = sum(found.values()) / len(found)
        return Score(correct=all(found.values()), score=fraction, detail={"slots": found})

    # --------------------------------------------------------------- rendering

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        check_mode(mode, MODES)
        c = instance.content
        metadata = {
            "generator": self.name,
            "seed": instance.seed,
            "complexity": instance.complexity,
            "mode": mode,
            "speakers": len(c["speakers"]),
            "turns": len(c["turns"]),
            "noise": c["noise"],
            "snr_db": c["snr_db"],
            "question_kind": c["question"]["kind"],
        }
        target = answer_text(instance)
        if mode == "transcript":
            lines = [f"Speaker {turn['speaker'] + 1}: {turn['text']}" for turn in c["turns"]]
            prompt = "Read this transcript of a conversation.\n" + "\n".join(lines)
            return RenderedItem(
                input=f"{prompt}\n{c['question']['text']}", target=target, metadata=metadata
            )
        built = self.audio(instance)
        digest = hashlib.sha256(built.wav).hexdigest()[:16]
        ref = Workspace(workspace).write_bytes(f"media/{self.name}/{digest}.wav", built.wav)
        metadata |= {
            "duration_s": built.duration_s,
            "achieved_snr_db": round(measured_snr_db(built.clean, built.wav), 3),
        }
        prompt = (
            "Listen to the recording of a conversation (the speakers introduce themselves by "
            f"name; there is background noise). {c['question']['text']} {answer_hint(c)}"
        )
        return RenderedItem(input=prompt, target=target, media=[ref], metadata=metadata)


# ----------------------------------------------------------------------- checks


def check_voices(content: dict[str, Any]) -> CheckResult:
    speakers, turns = content["speakers"], content["turns"]
    problems = []
    voices = [s["voice"] for s in speakers]
    if len(set(voices)) != len(voices):
        problems.append(f"two speakers share a voice: {voices}")
    for index, speaker in enumerate(speakers):
        own = [t for t in turns if t["speaker"] == index]
        if not own:
            problems.append(f"{speaker['name']} never speaks")
        elif not script_mod.mentions(own[0]["text"], speaker["name"]):
            problems.append(f"{speaker['name']} does not introduce themselves in their first turn")
    if any(not 0 <= t["speaker"] < len(speakers) for t in turns):
        problems.append("a turn names a speaker that does not exist")
    return CheckResult(
        check="voices",
        passed=not problems,
        reason="; ".join(problems)
        or f"{len(speakers)} speakers with distinct voices, all introduced",
    )


def check_answer(content: dict[str, Any], answer: Any) -> CheckResult:
    """The answer follows from the script and is stated there exactly once."""
    question, turns, speakers = content["question"], content["turns"], content["speakers"]
    script = " ".join(t["text"] for t in turns)
    problems: list[str] = []
    kind = question["kind"]
    if kind == "speaker_count":
        speaking = len({t["speaker"] for t in turns})
        if answer != speaking:
            problems.append(f"answer {answer!r} but {speaking} distinct speakers speak")
    elif kind == "who_said":
        turn = turns[question["turn"]]
        fact = turn["fact"]
        if fact is None:
            problems.append("the question's turn states nothing")
        else:
            for value in fact["values"].values():
                if script_mod.count_mentions(script, value) != 1:
                    problems.append(f"{value!r} is not stated exactly once")
            if answer != speakers[turn["speaker"]]["name"]:
                problems.append(f"answer {answer!r} did not say it")
        if isinstance(answer, str) and script_mod.count_mentions(script, answer) != 1:
            problems.append(f"the name {answer!r} is not spoken exactly once")
    elif kind == "key_info":
        turn = turns[question["turn"]]
        if turn["speaker"] != question["speaker"] or turn["fact"] is None:
            problems.append("the question's turn is not a statement by the target speaker")
        elif answer != turn["fact"]["values"]:
            problems.append(
                f"answer {answer!r} differs from the statement {turn['fact']['values']}"
            )
        for value in answer.values() if isinstance(answer, dict) else []:
            holders = [t for t in turns if script_mod.mentions(t["text"], value)]
            if script_mod.count_mentions(script, value) != 1 or len(holders) != 1:
                problems.append(f"{value!r} is not stated exactly once")
            elif holders[0]["speaker"] != question["speaker"]:
                problems.append(f"{value!r} is stated by another speaker")
        if turn["fact"] is not None:
            kind_said = turn["fact"]["kind"]
            same_kind = [
                t
                for t in turns
                if t["speaker"] == question["speaker"]
                and t["fact"]
                and t["fact"]["kind"] == kind_said
            ]
            if len(same_kind) != 1:
                problems.append("the target speaker makes that kind of statement more than once")
    else:
        problems.append(f"unknown question kind {kind!r}")
    return CheckResult(
        check="answer",
        passed=not problems,
        reason="; ".join(problems) or "the answer is stated exactly once, by the right speaker",
    )


def measured_snr_db(clean_wav: bytes, noisy_wav: bytes) -> float:
    """The SNR of a noisy mix measured against its clean source, trusting no mixer report:
    the clean signal's share of the mix is its least-squares projection (the mix may have
    been scaled down as a whole to avoid clipping), the rest is noise."""
    clean, noisy = audio.samples(clean_wav), audio.samples(noisy_wav)
    if len(clean) != len(noisy):
        return -math.inf
    gain = float(np.dot(noisy, clean) / np.dot(clean, clean))
    return audio.snr_db(gain * clean, noisy - gain * clean)


def complexity_of(content: dict[str, Any]) -> float:
    """More talkers, more turns and less SNR make it harder: a score in [0, 1]."""
    speakers = (len(content["speakers"]) - 2) / 2
    turns = (len(content["turns"]) - 2) / 10
    snr = (30.0 - content["snr_db"]) / 35.0
    babble = 1.0 if content["noise"] == "babble" else 0.0
    return round(0.3 * speakers + 0.2 * turns + 0.4 * snr + 0.1 * babble, 4)


def answer_text(instance: Instance) -> str:
    if isinstance(instance.answer, dict):
        c = instance.content
        kind = c["turns"][c["question"]["turn"]]["fact"]["kind"]
        return ", ".join(instance.answer[slot] for slot in script_mod.SLOTS[kind])
    return str(instance.answer)


def answer_hint(content: dict[str, Any]) -> str:
    kind = content["question"]["kind"]
    if kind == "speaker_count":
        return "Answer with a number."
    if kind == "who_said":
        return "Answer with the person's name."
    return "Answer briefly with the details asked for."
