"""The Verifier: quality and quota control (paper §3.2).

- SampleRealized → the format check; for an item of a real dataset, the programmatic
  checks (`agents/item_checks.py`: unfilled placeholders, cut-off or duplicated options,
  the answer in the question or equal to its premise, too few options, a missing context,
  scraped boilerplate, slurs and profanity, and for a subtask about everyday life rare,
  technical words), which reject an item before any model call;
  then the semantic checks or, for generated items, the generator's own verifier (no
  model call: generated items are correct by construction, re-creating them is the
  check). Semantic checks: the backbone judges the item knowing its label, naming
  the check that fails (answerable, answer matches, depends on the target signal)
  or none; only when it names `answerable` or `answer_matches` is the item solved
  blind (as an evaluated model would), and a blind solve that reaches the label
  overrules it. One call per sound item, two for one the judge doubts. An item
  whose question sample-level planning rewrote is solved blind first (the judge
  then sees that answer too). A source's own multiple-choice item is solved blind
  first, and again with its options reversed (`option_order`: a small model that
  cannot tell the options apart answers by position); each solve also reports how its
  first token's probability spreads over the option letters, and the label must stand
  clear of chance in both orders (`unambiguous`, `RunSettings.solve_margin`: a small
  model that reaches the label by a hair is guessing between options that both fit); it
  is not judged at all when both answers reach the label and its question uses a cue of
  the subtask's capability (`settled_by_blind_solve`): two one-letter calls.
  A cloze item with options (its label the source's own span) is fitted instead of
  solved when the model can score text (`agents/cloze_fit.py`, the local model): each
  option with the rest of its sentence is scored right after the text before the blank;
  the likeliest must be the label (`answer_matches`) and the label's share must clear the
  same bar (`unambiguous`). One scoring call; the option order plays no part.
  In a refresh, an item every known model solves fails `separates` (agents/separation.py).
  `SampleChecked` holds every verdict with its reason.
  A question rewritten by sample-level planning whose blind answer misses the label is
  not judged: `RepairRequested(restore_source_question=True)` puts the source's
  question back (no model call) and the restored item is verified afresh.
  Then `SampleAccepted`; or, once per sample, `RepairRequested` when the failing
  reason can be fixed by rewording; or `SampleRejected` + `ReplenishRequested`.
- when every slot is either filled or reported short, `BenchmarkPublished` with
  the accepted ids and the content hash of the files `replay.benchmark_files`
  projects from the log. The check runs after each verdict is appended (the
  handler that appends last sees every verdict), on `QuotaShortfall`, and on
  `SpecFinalized`: publication is the verifier's reaction to the spec (its
  cause), so a resume re-delivers the spec until the benchmark is published.

Ablation `verifier`: every realized sample is accepted unchecked.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal, NamedTuple

import msgspec
import structlog

from agents.answers import letter, letter_shares, text_key
from agents.base import Agent, AgentContext, on
from agents.checks import format_verdict
from agents.cloze import asked_text
from agents.cloze_fit import fill_texts, fit_of
from agents.item_checks import check_item
from agents.label_set import closed_labels
from agents.prompts import verifier as prompts
from agents.prompts.common import clip
from agents.prompts.evaluator import answer_messages
from agents.register import names_everyday
from agents.relevance import capability_cues, on_target, stems
from agents.scoring import score_answer
from agents.separation import separation_verdict
from agents.settings import settings_of
from agents.sources import GeneratorVersionMismatch, PoolCache, recreate
from replay.benchmark_files import benchmark_content
from replay.projections import RunState, Synthesis
from store.events import (
    BenchmarkItem,
    BenchmarkPublished,
    CheckVerdict,
    Envelope,
    GeneratedBy,
    Payload,
    QuotaShortfall,
    RepairRequested,
    ReplenishRequested,
    RunFailed,
    SampleAccepted,
    SampleChecked,
    SampleRealized,
    SampleRejected,
    SourceLabel,
    SpecFinalized,
    Subtask,
    TransformationPlan,
)

log = structlog.get_logger(__name__)


class VerifierAgent(Agent):
    role = "verifier"

    def __init__(self, pools: PoolCache | None = None) -> None:
        self._pools = pools or PoolCache()

    def _media_roles(self, state: RunState, dataset_id: str) -> list[str]:
        """The card's media roles (attachments, not text context); none if it is gone."""
        try:
            return self._pools.for_request(state.request.payload).card(dataset_id).media_roles()
        except Exception:  # the pool changed since realization: judge the text alone
            return []

    @on(SpecFinalized)
    async def spec_finalized(self, event: Envelope[SpecFinalized], ctx: AgentContext) -> None:
        """Publication is the reaction to the spec: resume re-delivers it until published."""
        state = await ctx.state()
        if not state.status.finished:
            await self._maybe_publish(state, ctx)

    @on(QuotaShortfall)
    async def shortfall(self, event: Envelope[QuotaShortfall], ctx: AgentContext) -> None:
        """A slot reported short may be the last one the benchmark waited for."""
        state = await ctx.state()
        if not state.status.finished:
            await self._maybe_publish(state, ctx)

    @on(SampleRealized)
    async def verify(self, event: Envelope[SampleRealized], ctx: AgentContext) -> None:
        """Check one realized item: accept it, ask for its repair, or reject and replenish."""
        state = await ctx.state()
        if state.status.finished:
            return
        p = event.payload
        sid = p.sample_id
        latest = state.samples.realized.get(sid)
        if state.samples.decided(sid):
            return
        if latest is not None and latest.event_id != event.event_id:
            return  # superseded by a repair
        req = state.request.payload
        slot = state.slots.slots.get(sid)
        batch: list[tuple[Payload, str]] = []
        if "verifier" in req.disabled:
            batch.append((SampleAccepted(sample_id=sid, subtask=p.item.subtask,
                                         reason="verifier disabled: accepted without checks"), sid))
            await ctx.emit_many(batch, cause=event)
            await self._maybe_publish(await ctx.state(), ctx)
            return
        verdicts = [format_verdict(p.item, sid, state.media.stored)]
        repairable, hint = False, ""
        if verdicts[0].passed:
            if p.generated_by is not None:
                verdicts.append(generator_verdict(p.generated_by, state.synthesis))
            else:
                media_roles = (self._media_roles(state, p.source.dataset_id)
                               if isinstance(p.source, SourceLabel) else [])
                sub = subtask_of(state, p.item.subtask)
                verdicts += item_verdicts(p, plan_of(state, p), media_roles,
                                          everyday=sub is not None and names_everyday(sub))
        if all(v.passed for v in verdicts) and p.generated_by is None:
            blind = None
            restorable = rewritten(p) and p.repair_of is None
            if restorable or solved_first(p):
                blind = None if restorable else await self._fit(event, ctx)
                blind = blind or await self._solve(event, ctx)
                if not blind[1] and restorable:
                    # The planner's question lost the source's answer: restore the source's.
                    await ctx.emit(RepairRequested(
                        sample_id=sid, restore_source_question=True,
                        reason=f"the rewritten question's blind answer {clip(blind[0], 80)!r} "
                               f"does not reach the label {p.item.target!r}"), cause=event)
                    return
                margin = settings_of(req).solve_margin
                if not blind[1]:
                    # Neither option follows, or the label is not what the input supports.
                    verdicts.append(CheckVerdict(
                        check="answer_matches", passed=False, reason=missed(p.item, blind)))
                elif not clear_of_chance(p.item, blind, margin) or blind.how == "fit":
                    # A fit scores every option at once: their order changes nothing.
                    verdicts.append(unambiguous_verdict(p.item, [blind], margin))
                elif (flipped := reversed_options(p.item)) is not None:
                    again = await self._solve(event, ctx, flipped)
                    verdicts.append(option_order_verdict(p.item, flipped, blind[0], again))
                    if again.reaches and again.label_share is not None:
                        verdicts.append(unambiguous_verdict(p.item, [blind, again], margin))
            if all(v.passed for v in verdicts):
                settled = (None if settings_of(req).judge_every_item
                           else settled_by_blind_solve(p, blind, subtask_of(state, p.item.subtask),
                                                       req.requirement))
                if settled is not None:
                    verdicts += settled
                else:
                    semantic, repairable, hint = await self._semantic(event, state, ctx, blind)
                    verdicts += semantic
        if all(v.passed for v in verdicts) and (models := state.lineage.separating_models()):
            verdicts.append(await separation_verdict(event, models, ctx))  # a refresh
            repairable = False  # an item every model solves is replaced, not reworded
        batch.append((SampleChecked(sample_id=sid, verdicts=verdicts), sid))
        failed = [v for v in verdicts if not v.passed]
        if not failed:
            batch.append((SampleAccepted(sample_id=sid, subtask=p.item.subtask,
                                         reason="all checks passed"), sid))
        elif repairable and p.repair_of is None and failed[0].check != "format":
            reason = "; ".join(f"{v.check}: {v.reason}" for v in failed)
            batch.append((RepairRequested(sample_id=sid, reason=f"{reason}; hint: {hint}"
                                          if hint else reason), sid))
        else:
            first = failed[0]
            why = first.reason + (" (after one repair)" if p.repair_of is not None else "")
            batch.append((SampleRejected(sample_id=sid, subtask=p.item.subtask, check=first.check,
                                         reason=why), sid))
            if slot is not None:
                batch.append((ReplenishRequested(subtask=slot.subtask,
                                                 dataset_id=slot.quota_dataset_id,
                                                 plan_id=slot.quota_plan_id, slot=slot.slot,
                                                 replaces=sid), sid))
        await ctx.emit_many(batch, cause=event)
        await self._maybe_publish(await ctx.state(), ctx)

    async def _solve(self, event: Envelope[SampleRealized], ctx: AgentContext,
                     item: BenchmarkItem | None = None) -> BlindAnswer:
        """Solve the item (or `item`, its options reordered) blind, as an evaluated model
        would (the Evaluator's own prompt): the answer, whether it reaches the label, and
        for options the label's share of the option letters' probability."""
        p = event.payload
        item = item or p.item
        state = await ctx.state()
        messages = answer_messages(item.input, item.choices, item.media)
        llm = ctx.llm(self.role)
        share = None
        if item.choices:
            choice = await llm.complete_choice(prompts.SOLVE, messages, cause=event)
            solved = choice.text
            share = label_share(item, choice.first_token_logprobs)
        else:
            solved = await llm.complete_text(prompts.SOLVE, messages, cause=event)
        reaches = score_answer(item, solved, p.source, state.synthesis)[0] == 1.0
        return BlindAnswer(solved, reaches, share)

    async def _fit(self, event: Envelope[SampleRealized], ctx: AgentContext
                   ) -> BlindAnswer | None:
        """A cloze item's options filled into its blank and scored by the model's likelihood
        (`agents.cloze_fit`): the likeliest option as the answer, the label's share of the
        options' probability. None: not a cloze item with options, or a model that cannot
        score text (the letter solve then decides)."""
        item = event.payload.item
        texts = fill_texts(item)
        if texts is None:
            return None
        scores = await ctx.llm(self.role).continuation_logprobs(prompts.FIT, texts[0], texts[1],
                                                                cause=event)
        if scores is None:
            return None
        fit = fit_of(item, scores)
        return BlindAnswer(letter(fit.best), fit.best == fit.label, fit.share, how="fit")

    async def _semantic(self, event: Envelope[SampleRealized], state: RunState,
                        ctx: AgentContext, blind: BlindAnswer | None
                        ) -> tuple[list[CheckVerdict], bool, str]:
        """The judgement of the semantic checks, knowing the label (and the blind answer when
        the item was solved first). A judge that names `answerable` or `answer_matches`
        without a blind answer gets one: a blind solve that reaches the label overrules it."""
        p = event.payload
        settings = settings_of(state.request.payload)
        sub = subtask_of(state, p.item.subtask)
        sub_doc = ({"name": sub.name, "description": sub.description, "capability": sub.capability}
                   if sub else {"name": p.item.subtask})
        llm = ctx.llm(self.role)
        item_doc: dict[str, Any] = {
            "input": clip(p.item.input, settings.prompt_chars * 2),
            "choices": ([f"{letter(i)}. {c}" for i, c in enumerate(p.item.choices)]
                        if p.item.choices else None),
            "answer": p.item.target,
        }
        if blind is not None:
            item_doc["independent_answer"] = {"answer": clip(blind[0].strip(), 200),
                                              "agrees": blind[1]}
        if "answer_text" in p.item.metadata:
            item_doc["answer_text"] = p.item.metadata["answer_text"]
        if p.item.media:
            item_doc["media"] = p.item.media
        answer = await llm.complete_json(
            prompts.CHECK, prompts.check_messages(p.sample_id, sub_doc, item_doc), prompts.CHECK_SCHEMA,
            cause=event)
        repairable = bool(answer["repairable"])
        failed_check, why = str(answer["failed_check"]), str(answer["reason"]).strip()
        if blind is None and failed_check in SETTLED_BY_BLIND_SOLVE:
            blind = await self._solve(event, ctx)
        solved, agrees = (blind.text, blind.reaches) if blind is not None else ("", False)
        guess_of = len(self._guessable_labels(state, p))
        verdicts = []
        for check in prompts.SEMANTIC_CHECKS:
            passed, reason = check_verdict(check, failed_check == check, agrees, solved, why,
                                           guess_of)
            verdicts.append(CheckVerdict(check=check, passed=passed, reason=reason[:300],
                                         repairable=repairable and not passed))
        return verdicts, repairable, str(answer.get("repair_hint", ""))

    def _guessable_labels(self, state: RunState, p: SampleRealized) -> list[str]:
        """The closed label set an open answer is one of (else []): a blind solve can reach
        such a label by guessing. TimeBank's 13 relations: the 1.5B answered BEFORE to 21 of
        41 items, and all four TimeBank items a temporal build accepted were BEFORE items
        whose judge had said they were not answerable."""
        plan = plan_of(state, p)
        if p.item.choices or plan is None or not isinstance(p.source, SourceLabel):
            return []
        pool = self._pools.for_request(state.request.payload)
        labels = closed_labels(pool, p.source.dataset_id, plan.target_field)
        return labels if text_key(p.item.target) in {text_key(x) for x in labels} else []

    async def _maybe_publish(self, state: RunState, ctx: AgentContext) -> None:
        spec = state.slots.spec
        if state.publication.event is not None or spec is None:
            return
        if not state.slots.all_slots_resolved():
            return
        sample_ids = state.slots.accepted_in_slots()
        rejected = len(state.samples.rejected)
        if not sample_ids:
            await ctx.emit(RunFailed(stage="verifier",
                                     reason=f"no sample passed verification ({rejected} "
                                            f"rejected; every slot reported short)"),
                           cause=spec, key="nothing-accepted")
            return
        content = benchmark_content(state, sample_ids)
        await ctx.emit(BenchmarkPublished(
            sample_ids=sample_ids, accepted=len(sample_ids), rejected=rejected,
            content_hash=content.content_hash(),
            files={path: d.sha256 for path, d in content.digests().items()},
        ), cause=spec, key="publish")


def plan_of(state: RunState, p: SampleRealized) -> TransformationPlan | None:
    """The dataset plan the item was realized with (its slot's), if the spec names it."""
    spec = state.slots.spec_payload
    slot = state.slots.slots.get(p.sample_id)
    plan_id = slot.plan_id if slot is not None else p.item.metadata.get("plan_id")
    return next((pl for pl in spec.plans if pl.plan_id == plan_id), None) if spec else None


def subtask_of(state: RunState, name: str) -> Subtask | None:
    """The spec's subtask called `name`, if the spec names it."""
    spec = state.slots.spec_payload
    return next((s for s in spec.subtasks if s.name == name), None) if spec else None


def item_verdicts(p: SampleRealized, plan: TransformationPlan | None,
                  media_roles: Collection[str] = (), everyday: bool = False
                  ) -> list[CheckVerdict]:
    """Every programmatic check's verdict (`agents.item_checks`), free: no model is asked
    (`everyday`: the item's subtask names everyday life, so its register is checked)."""
    return [CheckVerdict(check=c.check, passed=c.passed, reason=c.reason[:300])
            for c in check_item(p.item, plan, media_roles, everyday)]


def solved_first(p: SampleRealized) -> bool:
    """Whether the item is solved blind before it is judged: a source item with options (one
    letter to answer: a cheap call) — a judge that knows the label lets items through whose
    options no reader can choose between."""
    return isinstance(p.source, SourceLabel) and len(p.item.choices or []) >= 2


def reversed_options(item: BenchmarkItem) -> BenchmarkItem | None:
    """The item with its options in reverse order and its label moved with them (None: its
    label is not one of its options' letters)."""
    choices, target = item.choices or [], item.target.strip().upper()
    if len(choices) < 2 or len(target) != 1 or not 0 <= ord(target) - ord("A") < len(choices):
        return None
    index = ord(target) - ord("A")
    return msgspec.structs.replace(item, choices=choices[::-1],
                                   target=letter(len(choices) - 1 - index))


class BlindAnswer(NamedTuple):
    """One blind solve: the answer, whether it reaches the label, and (options, a model that
    reports log-probabilities) the label's share of the option letters' probability. A fit
    (`how="fit"`, a cloze item) answers with the option that fills the blank likeliest, and
    its share is of the filled texts' probability."""

    text: str
    reaches: bool
    label_share: float | None = None
    how: Literal["solve", "fit"] = "solve"


def missed(item: BenchmarkItem, blind: BlindAnswer) -> str:
    """Why a blind answer that misses the label fails `answer_matches`."""
    if blind.how == "fit":
        index = ord(blind.text) - ord("A")
        option = (item.choices or [])[index] if 0 <= index < len(item.choices or []) else ""
        return (f"filled into the blank, {clip(option, 60)!r} ({blind.text}) reads likelier "
                f"than the label {item.target!r}")
    return (f"a blind solve answered {clip(' '.join(blind.text.split()), 80)!r}, not the "
            f"label {item.target!r}")


def label_share(item: BenchmarkItem, first_token_logprobs: dict[str, float] | None
                ) -> float | None:
    """The label's share of the option letters' probability in a one-letter answer's first
    token (None: the model reported no probabilities, or none on an option letter)."""
    if first_token_logprobs is None:
        return None
    shares = letter_shares(first_token_logprobs, len(item.choices or []))
    return shares.get(item.target.strip().upper(), 0.0) if shares else None


def required_share(n_options: int, margin: float) -> float:
    """The label's share a blind solve must give it: `margin` of the way from chance to
    certainty (two options, margin 0.2: 0.6)."""
    chance = 1 / max(1, n_options)
    return chance + margin * (1 - chance)


def clear_of_chance(item: BenchmarkItem, blind: BlindAnswer, margin: float) -> bool:
    """Whether the solve's label share clears the bar (unknown: it does, nothing to tell)."""
    return (blind.label_share is None
            or blind.label_share >= required_share(len(item.choices or []), margin))


def unambiguous_verdict(item: BenchmarkItem, solves: list[BlindAnswer],
                        margin: float) -> CheckVerdict:
    """Whether every blind solve gave the label a share of the options' probability clear of
    chance. On the demo's 50 everyday cause-and-effect items (hand-labelled), the 1.5B's
    answer reached the label in both orders on 28, 23 of them sound; the 20 it gave 0.6 or
    more in both orders held 17 sound ones — the items it dropped were mostly pairs where
    both options follow (perf/blind_solve_precision.py)."""
    bar = required_share(len(item.choices or []), margin)
    fit = bool(solves) and solves[0].how == "fit"
    orders = ("as given", "reversed")
    shares = ", ".join(f"{s.label_share:.2f}" + ("" if fit else f" ({orders[i]})")
                       for i, s in enumerate(solves) if s.label_share is not None)
    gave = ("filled into the blank, the label takes" if fit
            else "the blind solve gave the label")
    if all(clear_of_chance(item, s, margin) for s in solves):
        return CheckVerdict(check="unambiguous", passed=True,
                            reason=f"{gave} {shares} of the options' probability; the bar is "
                                   f"{bar:.2f}")
    other = "fills it" if fit else "reads as an answer"
    return CheckVerdict(check="unambiguous", passed=False,
                        reason=f"{gave} only {shares} of the options' probability, under the "
                               f"bar of {bar:.2f}: another option {other} almost as well")


def option_order_verdict(item: BenchmarkItem, flipped: BenchmarkItem, said: str,
                         again: BlindAnswer) -> CheckVerdict:
    """Whether the blind solve still reaches the label with the options reversed. A small
    model that cannot tell the options apart answers by position: on the demo's accepted
    items, the 1.5B changed its answer on three of the five a careful reader rejected (a
    definition taken for an event, an effect that restates its cause) and on none of the
    seven it kept."""
    first = " ".join(said.split())[:40]
    then = " ".join(again[0].split())[:40]
    if again[1]:
        return CheckVerdict(check="option_order", passed=True,
                            reason=f"the blind solve reached the label with the options as "
                                   f"given ({first!r}) and reversed ({then!r})")
    return CheckVerdict(check="option_order", passed=False,
                        reason=f"the blind solve reached the label {item.target!r} with the "
                               f"options as given ({first!r}), but answered {then!r} with them "
                               f"reversed (the label then {flipped.target!r}): the options "
                               f"do not tell one answer apart")


def rewritten(p: SampleRealized) -> bool:
    """Whether sample-level planning replaced the source's question (which a fallback can
    restore)."""
    source = p.item.metadata.get("source_question")
    return bool(source) and source != p.item.metadata.get("question")


# What a blind solve that reaches the label shows: the input suffices, and the label is right.
SETTLED_BY_BLIND_SOLVE = ("answerable", "answer_matches")


def settled_by_blind_solve(p: SampleRealized, blind: BlindAnswer | None,
                           sub: Subtask | None, requirement: str = "") -> list[CheckVerdict] | None:
    """The semantic verdicts of a source's own multiple-choice item whose blind solve reached
    the label and whose question uses a cue of the subtask's capability — no judgement is
    asked (None: the judge is). The blind solve settles `answerable` and `answer_matches`;
    the cue check (the one grounding measured the dataset's questions with) settles
    `depends_on_signal`. On the demo the judgement was half the model time and passed every
    item these settle."""
    if blind is None or not blind[1] or not solved_first(p) or rewritten(p) or sub is None:
        return None
    cues = capability_cues(sub, requirement)
    question = asked_text(p.item)
    if not cues or not on_target(question, cues):
        return None
    said = ("the label fills the blank likeliest" if blind.how == "fit"
            else f"a blind solve reached the label ({' '.join(blind[0].split())[:80]!r})")
    hit = sorted(stems(question) & cues)
    return [
        CheckVerdict(check="answerable", passed=True, reason=said),
        CheckVerdict(check="answer_matches", passed=True, reason=said),
        CheckVerdict(check="depends_on_signal", passed=True,
                     reason=f"what the item asks uses a cue of the subtask's capability "
                            f"({', '.join(hit)}); not judged"),
    ]


def check_verdict(check: str, named: bool, agrees: bool, solved: str,
                  why: str, guess_of: int = 0) -> tuple[bool, str]:
    """One semantic verdict. A blind solve that reached the label settles `answerable` and
    `answer_matches` (a judge that names them anyway is overruled, and the reason says so),
    unless the answer is one of a closed set of `guess_of` labels, which a guess reaches;
    otherwise the judge decides, with the blind answer in front of it."""
    said = " ".join(solved.split())[:80]
    if check in SETTLED_BY_BLIND_SOLVE and agrees and not (named and guess_of):
        overruled = f"; the judge said otherwise: {why}" if named else ""
        return True, f"a blind solve reached the label ({said!r}){overruled}"
    if named:
        blind = ""
        if check in SETTLED_BY_BLIND_SOLVE:
            blind = (f" (a blind solve answered {said!r}, one of a closed set of {guess_of} "
                     f"labels that a guess reaches: not overruled)" if agrees and guess_of
                     else f" (a blind solve answered {said!r})")
            why = clip(why, 300 - len(blind) - 4)  # verdict reasons keep 300: the note stays
        return False, why + blind
    return True, f"not named as failing: {why}"


def generator_verdict(source: GeneratedBy,
                      synthesized: Synthesis | None = None) -> CheckVerdict:
    """Re-create the instance from its recorded generator version, seed and parameters and
    run its verifier (a synthesized generator's in the sandbox, from its recorded source)."""
    try:
        gen, instance = recreate(source, synthesized)
        results = gen.verify(instance)
    except GeneratorVersionMismatch as exc:
        return CheckVerdict(check="generator", passed=False, reason=str(exc))
    except Exception as exc:  # the generator cannot even re-create its instance
        return CheckVerdict(check="generator", passed=False, reason=f"cannot re-create: {exc}")
    failed = [r for r in results if not r.passed]
    if failed:
        return CheckVerdict(check="generator", passed=False,
                            reason="; ".join(f"{r.check}: {r.reason}" for r in failed))
    return CheckVerdict(check="generator", passed=True,
                        reason="correct by construction; " + ", ".join(r.check for r in results)
                        + " passed")
