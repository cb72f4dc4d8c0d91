"""Noisy multi-speaker speech generator: real espeak-ng voices, real noise, planted faults.

Dialogues are kept short (2-3 speakers, few turns) so the whole file runs in seconds.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import subprocess
import sys
import wave
from pathlib import Path

import msgspec
import pytest

from tools.cards import DatasetCard, parse_card
from tools.generators import speech_dialogue as sd
from tools.generators import speech_script as script
from tools.generators.base import Instance, ParamError
from tools.pure import audio, tts

SHORT = {"speakers": 2, "turns": 3, "noise": "white"}
REPO = Path(__file__).resolve().parents[2]


def make(seed: int, **params: object) -> Instance:
    return sd.SpeechDialogueGenerator().sample(seed, SHORT | params)


def checks(instance: Instance, gen: sd.SpeechDialogueGenerator | None = None) -> dict[str, bool]:
    return {c.check: c.passed for c in (gen or sd.SpeechDialogueGenerator()).verify(instance)}


def edited(instance: Instance, answer: object = None, **content: object) -> Instance:
    new = copy.deepcopy(instance.content) | content
    fields = {"answer": answer} if answer is not None else {}
    return msgspec.structs.replace(instance, content=new, **fields)


# -------------------------------------------------------------------- determinism


def test_same_seed_same_instance_and_same_wav(tmp_path) -> None:
    a = make(1, question="key_info")
    b = make(1, question="key_info")
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert make(2, question="key_info") != a
    first = sd.SpeechDialogueGenerator().render(a, tmp_path / "one")
    second = sd.SpeechDialogueGenerator().render(b, tmp_path / "two")
    assert first.media == second.media
    wav = (tmp_path / "one" / first.media[0]).read_bytes()
    assert wav == (tmp_path / "two" / second.media[0]).read_bytes()
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getnchannels(), w.getframerate()) == (1, audio.SAMPLE_RATE)
        assert w.getnframes() / w.getframerate() == pytest.approx(
            first.metadata["duration_s"], abs=0.01
        )


@pytest.mark.parametrize("question", script.QUESTION_KINDS)
@pytest.mark.parametrize("noise", audio.NOISE_KINDS)
def test_generated_instances_pass_every_check(question: str, noise: str) -> None:
    gen = sd.SpeechDialogueGenerator()
    instance = gen.sample(7, {"speakers": 3, "turns": 4, "noise": noise, "question": question})
    results = gen.verify(instance)
    assert {r.check for r in results} == {"voices", "answer", "snr"}
    assert all(r.passed for r in results), results
    assert 0.0 <= instance.params["snr_min"] <= instance.content["snr_db"] <= 20.0


def test_rendered_audio_has_the_target_snr(tmp_path) -> None:
    gen = sd.SpeechDialogueGenerator()
    for seed, noise in [(3, "white"), (4, "pink"), (5, "babble")]:
        instance = gen.sample(seed, SHORT | {"noise": noise, "snr_min": -5.0, "snr_max": 25.0})
        item = gen.render(instance, tmp_path)
        noisy = (tmp_path / item.media[0]).read_bytes()
        clean = gen.audio(instance).clean
        assert abs(sd.measured_snr_db(clean, noisy) - instance.content["snr_db"]) <= 0.5
        assert item.metadata["achieved_snr_db"] == pytest.approx(
            instance.content["snr_db"], abs=0.5
        )


def test_speakers_have_distinct_voices_and_introduce_themselves() -> None:
    instance = sd.SpeechDialogueGenerator().sample(9, {"speakers": 4, "turns": 6, "noise": "pink"})
    speakers = instance.content["speakers"]
    assert len({s["voice"] for s in speakers}) == 4
    first_turns = {}
    for turn in instance.content["turns"]:
        first_turns.setdefault(turn["speaker"], turn["text"])
    assert sorted(first_turns) == [0, 1, 2, 3]
    for index, text in first_turns.items():
        assert speakers[index]["name"] in text
    # Different voices really sound different: their syntheses of one text differ.
    said = {tts.synthesize("Good idea.", s["voice"], s["speed"], s["pitch"]) for s in speakers}
    assert len(said) == 4


# ------------------------------------------------------------ planted bad instances


def test_voice_check_catches_shared_voice_and_missing_introduction() -> None:
    instance = make(11)
    speakers = copy.deepcopy(instance.content["speakers"])
    speakers[1]["voice"] = speakers[0]["voice"]
    assert checks(edited(instance, speakers=speakers))["voices"] is False
    turns = copy.deepcopy(instance.content["turns"])
    first = next(t for t in turns if t["speaker"] == 1)
    first["text"] = first["text"].replace(instance.content["speakers"][1]["name"], "someone")
    assert checks(edited(instance, turns=turns))["voices"] is False


def test_answer_check_catches_a_wrong_speaker_count() -> None:
    instance = make(12, question="speaker_count")
    assert checks(instance)["answer"] is True
    assert checks(edited(instance, answer=instance.answer + 1))["answer"] is False


def test_answer_check_catches_a_wrong_or_ambiguous_attribution() -> None:
    instance = make(13, question="who_said")
    other = next(s["name"] for s in instance.content["speakers"] if s["name"] != instance.answer)
    assert checks(edited(instance, answer=other))["answer"] is False
    # The same statement made by a second turn makes the question ambiguous.
    turns = copy.deepcopy(instance.content["turns"])
    asked = turns[instance.content["question"]["turn"]]
    repeat = next(i for i, t in enumerate(turns) if i != instance.content["question"]["turn"])
    turns[repeat]["text"] += " " + asked["text"].split(". ")[-1]
    assert checks(edited(instance, turns=turns))["answer"] is False


def test_answer_check_catches_wrong_or_repeated_key_information() -> None:
    instance = make(14, question="key_info")
    values = dict(instance.answer)
    slot = sorted(values)[0]
    values[slot] = "somewhere else"
    assert checks(edited(instance, answer=values))["answer"] is False
    # Another speaker repeating one of the values makes it ambiguous.
    turns = copy.deepcopy(instance.content["turns"])
    value = instance.answer[sorted(instance.answer)[0]]
    other = next(t for t in turns if t["speaker"] != instance.content["question"]["speaker"])
    other["text"] += f" I heard {value} too."
    assert checks(edited(instance, turns=turns))["answer"] is False


class ShiftedMixGenerator(sd.SpeechDialogueGenerator):
    """A mixer that misses its target by 3 dB (a real bug the SNR check must catch)."""

    def audio(self, instance: Instance) -> sd.SpokenDialogue:
        built = super().audio(instance)
        shifted = audio.add_noise(
            built.clean, instance.content["snr_db"] - 3.0, instance.content["noise"],
            seed=instance.content["noise_seed"],
        )  # fmt: skip
        return msgspec.structs.replace(built, wav=shifted.wav)


def test_snr_check_catches_a_mix_off_target_and_a_target_off_range() -> None:
    instance = make(15)
    assert checks(instance, ShiftedMixGenerator())["snr"] is False
    assert checks(instance)["snr"] is True
    out_of_range = edited(instance, snr_db=instance.params["snr_max"] + 5.0)
    assert checks(out_of_range)["snr"] is False


# ------------------------------------------------------------------------ scoring


def test_score_speaker_count() -> None:
    gen = sd.SpeechDialogueGenerator()
    instance = make(16, question="speaker_count")
    assert instance.answer == 2
    assert gen.score(instance, "2").correct
    assert gen.score(instance, "There are two speakers.").correct
    assert not gen.score(instance, "three").correct
    assert not gen.score(instance, "I could not tell").correct


def test_score_who_said() -> None:
    gen = sd.SpeechDialogueGenerator()
    instance = make(17, question="who_said")
    other = next(s["name"] for s in instance.content["speakers"] if s["name"] != instance.answer)
    assert gen.score(instance, f"It was {instance.answer}.").correct
    assert gen.score(instance, instance.answer.lower()).score == 1.0
    assert not gen.score(instance, other).correct
    hedge = gen.score(instance, f"{instance.answer} or {other}")
    assert not hedge.correct and hedge.score == 0.0


def test_score_key_information_gives_partial_credit() -> None:
    gen = sd.SpeechDialogueGenerator()
    for seed in range(18, 60):
        instance = make(seed, question="key_info")
        if set(instance.answer) == {"place", "time", "day"}:
            break
    else:
        pytest.fail("no meeting statement in 40 seeds")
    place, time, day = (instance.answer[k] for k in ("place", "time", "day"))
    full = gen.score(instance, f"At {place}, {time}, on {day}.")
    assert full.correct and full.score == 1.0
    partial = gen.score(instance, f"At {place}, I did not catch when.")
    assert not partial.correct and partial.score == pytest.approx(1 / 3)
    hour, minute = script.TIMES[time]
    numeric = gen.score(instance, f"{place.removeprefix('the ')} at {hour}:{minute:02d} on {day}")
    assert numeric.correct
    assert gen.score(instance, "No idea").score == 0.0


# --------------------------------------------------------------- params and modes


@pytest.mark.parametrize(
    "params",
    [
        {"speakers": 1},
        {"speakers": 5},
        {"turns": 13},
        {"speakers": 3, "turns": 2},
        {"noise": "brown"},
        {"snr_min": 10.0, "snr_max": 5.0},
        {"snr_max": 31.0},
        {"question": "mood"},
        {"language": "fr"},
    ],
)
def test_out_of_range_parameters_are_refused(params: dict) -> None:
    with pytest.raises(ParamError):
        sd.SpeechDialogueGenerator().sample(0, params)


def test_drawn_turns_never_undercut_the_speakers() -> None:
    for seed in range(20):
        instance = sd.SpeechDialogueGenerator().sample(seed, {"speakers": 4})
        assert instance.params["turns"] >= 4
        assert len({t["speaker"] for t in instance.content["turns"]}) == 4


def test_transcript_mode_writes_no_audio(tmp_path) -> None:
    instance = make(19, question="who_said")
    item = sd.SpeechDialogueGenerator().render(instance, tmp_path, "transcript")
    assert item.media == [] and list(tmp_path.iterdir()) == []
    for turn in instance.content["turns"]:
        assert turn["text"] in item.input
    assert item.target == instance.answer
    with pytest.raises(ValueError, match="mode"):
        sd.SpeechDialogueGenerator().render(instance, tmp_path, "video")


def test_card_is_a_valid_general_bench_card() -> None:
    card = parse_card("gen-speech_dialogue", sd.SpeechDialogueGenerator().card())
    assert isinstance(card, DatasetCard)
    assert card.dataset_id == "gen-speech_dialogue" and card.generator == "speech_dialogue"
    assert card.media_roles() == ["audio"]


def test_another_process_with_another_hash_seed_gives_the_same_wav() -> None:
    code = (
        "import hashlib\n"
        "from tools.generators.speech_dialogue import SpeechDialogueGenerator\n"
        "g = SpeechDialogueGenerator()\n"
        "i = g.sample(23, {'speakers': 2, 'turns': 2, 'noise': 'babble'})\n"
        "print(hashlib.sha256(g.audio(i).wav).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
            check=True,
        )  # fmt: skip
        digests.add(out.stdout.strip())
    gen = sd.SpeechDialogueGenerator()
    here = gen.audio(gen.sample(23, {"speakers": 2, "turns": 2, "noise": "babble"})).wav
    assert digests == {hashlib.sha256(here).hexdigest()}
