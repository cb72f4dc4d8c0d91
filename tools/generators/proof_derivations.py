"""Derivations for faulty-step proofs: rewrite operations, families, controlled faults.

A derivation is a start line and a list of operations (expand a product,
group like terms, combine like terms, move terms across `=`, divide both
sides, split a middle term, factor pairs, factor out a common binomial). Each
operation knows how to do its rewrite correctly (`apply`) and how to botch it
in a named way (`faulty`): sign flip, dropped term, wrong coefficient, wrong
distribution, square error (a² + b²), sign error when moving a term, wrong
operation (multiplying instead of dividing).

A faulty derivation replays the operations, botches exactly one, and lets
the later operations work correctly on the botched line — so every later
step is still valid and exactly one step is wrong, which the caller checks
exactly with `proof_algebra`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from tools.generators.proof_algebra import (
    Equation,
    Expr,
    Line,
    Mono,
    Powers,
    Prod,
    Term,
    combine,
    degree_key,
    equivalent,
    expand_power,
    expand_prod,
    line_poly,
    mono,
    mono_mul,
    mul_powers,
    negate,
    sum_text,
    with_coef,
)

FAMILIES = ("simplify", "linear_equation", "factor_quadratic")
FAULT_KINDS = (
    "sign_flip", "dropped_term", "wrong_coefficient", "wrong_distribution", "square_error",
    "sign_error_moving", "wrong_operation",
)
GENERIC_KINDS = ("sign_flip", "dropped_term", "wrong_coefficient")
# Which faults each family's operations can plant.
FAMILY_KINDS = {
    "simplify": (*GENERIC_KINDS, "wrong_distribution", "square_error"),
    "linear_equation": (*GENERIC_KINDS, "wrong_distribution", "sign_error_moving",
                        "wrong_operation"),
    "factor_quadratic": ("sign_flip", "wrong_coefficient"),
}

Side = str  # "expr" | "lhs" | "rhs"


def get_side(line: Line, side: Side) -> Expr:
    if isinstance(line, Equation):
        return line.lhs if side == "lhs" else line.rhs
    return line


def set_side(line: Line, side: Side, terms: list[Term] | Expr) -> Line:
    terms = tuple(terms) or (Mono(Fraction(0)),)
    if isinstance(line, Equation):
        return Equation(terms, line.rhs) if side == "lhs" else Equation(line.lhs, terms)
    return terms


def _side_name(line: Line, side: Side) -> str:
    return {"lhs": " on the left side", "rhs": " on the right side"}.get(side, "") if isinstance(
        line, Equation) else ""


def _delta(rng: random.Random, c: Fraction) -> Fraction:
    """A small arithmetic slip: c ± 1 or ± 2, never 0 and never just −c."""
    options = [c + d for d in (-2, -1, 1, 2) if c + d != 0 and c + d != -c]
    return rng.choice(options)


@dataclass(frozen=True)
class Applied:
    line: Line
    label: str
    side: Side
    touched: tuple[int, ...]  # positions in `side` of the terms this step produced


class Operation(Protocol):
    kinds: tuple[str, ...]

    def apply(self, line: Line) -> Applied | None:
        """The correct rewrite, or None when it does not apply (then it is skipped)."""
        ...

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        """The rewrite botched in the named way, or None when that fault does not fit."""
        ...


def generic_fault(done: Applied, kind: str, rng: random.Random) -> Line | None:
    """Sign flip, dropped term or wrong coefficient on one term the step produced."""
    terms = list(get_side(done.line, done.side))
    if not done.touched:
        return None
    i = rng.choice(done.touched)
    if kind == "sign_flip":
        terms[i] = negate(terms[i])
    elif kind == "dropped_term":
        if len(terms) < 2:
            return None
        del terms[i]
    elif kind == "wrong_coefficient":
        terms[i] = with_coef(terms[i], _delta(rng, terms[i].c))
    else:
        return None
    return set_side(done.line, done.side, terms)


class _Generic:
    kinds: tuple[str, ...] = GENERIC_KINDS

    def apply(self, line: Line) -> Applied | None:  # pragma: no cover - protocol default
        raise NotImplementedError

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        done = self.apply(line)
        if done is None or kind not in self.kinds:
            return None
        return generic_fault(done, kind, rng)


class _OnOneSide(_Generic):
    """An operation on the terms of one side of a line (the expression, lhs or rhs)."""

    def __init__(self, side: Side = "expr") -> None:
        self.side = side

    def _monomials(self, line: Line) -> tuple[Mono, ...] | None:
        """The side's terms, when all of them are monomials (nothing left to expand)."""
        terms = get_side(line, self.side)
        if not all(isinstance(t, Mono) for t in terms):
            return None
        return terms  # type: ignore[return-value]


class ExpandProduct(_OnOneSide):
    """Multiply out the first product on a side: distribute, square a binomial, FOIL."""

    kinds = (*GENERIC_KINDS, "wrong_distribution", "square_error")

    def _find(self, line: Line) -> tuple[int, Prod] | None:
        for i, t in enumerate(get_side(line, self.side)):
            if isinstance(t, Prod):
                return i, t
        return None

    def apply(self, line: Line) -> Applied | None:
        found = self._find(line)
        if found is None:
            return None
        i, term = found
        terms = list(get_side(line, self.side))
        expanded = expand_prod(term)
        terms[i:i + 1] = expanded
        return Applied(set_side(line, self.side, terms), f"Expand {sum_text((term,))}",
                       self.side, tuple(range(i, i + len(expanded))))

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        if kind in GENERIC_KINDS:
            return super().faulty(line, kind, rng)
        found = self._find(line)
        if found is None:
            return None
        i, term = found
        outer = Mono(term.c, term.powers)
        wrong: list[Mono] | None = None
        if kind == "wrong_distribution":
            if len(term.factors) == 1 and term.factors[0][1] == 1 and outer != Mono(Fraction(1)):
                base = term.factors[0][0]  # c(a + b) → ca + b
                wrong = [mono_mul(outer, base[0]), *base[1:]]
            elif len(term.factors) == 1 and outer != Mono(Fraction(1)):
                inner = expand_power(*term.factors[0])  # c(a + b)² → ca² + 2ab + b²
                wrong = [mono_mul(outer, inner[0]), *inner[1:]]
            elif len(term.factors) == 2 and all(n == 1 and len(b) == 2 for b, n in term.factors):
                (a, b), (c, d) = (f[0] for f in term.factors)  # (a + b)(c + d) → ac + bd
                wrong = [mono_mul(outer, mono_mul(a, c)), mono_mul(outer, mono_mul(b, d))]
        elif kind == "square_error":
            if len(term.factors) == 1 and term.factors[0][1] == 2 and len(term.factors[0][0]) == 2:
                a, b = term.factors[0][0]  # (a + b)² → a² + b²
                wrong = [mono_mul(outer, mono_mul(a, a)), mono_mul(outer, mono_mul(b, b))]
        if wrong is None:
            return None
        terms = list(get_side(line, self.side))
        terms[i:i + 1] = wrong
        return set_side(line, self.side, terms)


class GroupLikeTerms(_OnOneSide):
    """Reorder the monomials of a side so like terms stand together."""

    def apply(self, line: Line) -> Applied | None:
        terms = self._monomials(line)
        if terms is None:
            return None
        ordered = sorted(terms, key=degree_key)  # stable: keeps the order within a group
        if tuple(ordered) == terms:
            return None
        moved = tuple(i for i, t in enumerate(ordered) if terms[i] is not t)
        return Applied(set_side(line, self.side, ordered),
                       f"Group like terms{_side_name(line, self.side)}", self.side, moved)


class CombineLikeTerms(_OnOneSide):
    def apply(self, line: Line) -> Applied | None:
        terms = self._monomials(line)
        if terms is None:
            return None
        combined = combine(list(terms))
        if tuple(combined) == terms:
            return None
        counts: dict[Powers, int] = {}
        for t in terms:
            counts[t.powers] = counts.get(t.powers, 0) + 1
        merged = tuple(i for i, m in enumerate(combined) if counts.get(m.powers, 0) > 1)
        touched = merged or tuple(range(len(combined)))
        return Applied(set_side(line, self.side, combined),
                       f"Combine like terms{_side_name(line, self.side)}", self.side, touched)


class MoveTerms(_Generic):
    """Move the x terms (or the constants) of one side of an equation to the other."""

    kinds = (*GENERIC_KINDS, "sign_error_moving")

    def __init__(self, src: Side, dst: Side, variable: bool) -> None:
        self.src, self.dst, self.variable = src, dst, variable

    def _split(self, line: Line) -> tuple[list[Term], list[Term]] | None:
        if not isinstance(line, Equation):
            return None
        src = get_side(line, self.src)
        moved = [t for t in src if isinstance(t, Mono) and bool(t.powers) == self.variable
                 and t.c != 0]
        if not moved or any(not isinstance(t, Mono) for t in src):
            return None
        return moved, [t for t in src if t not in moved]

    def _move(self, line: Line, sign: int) -> Applied | None:
        split = self._split(line)
        if split is None:
            return None
        moved, kept = split
        dst = list(get_side(line, self.dst))
        at = max((i + 1 for i, t in enumerate(dst) if bool(t.powers) == self.variable),
                 default=len(dst))
        arriving = [t if sign > 0 else negate(t) for t in moved]
        dst[at:at] = arriving
        new = set_side(set_side(line, self.src, kept), self.dst, dst)
        if len(moved) == 1:
            body = sum_text((Mono(abs(moved[0].c), moved[0].powers),))
            verb = f"Subtract {body} from" if moved[0].c > 0 else f"Add {body} to"
            label = f"{verb} both sides"
        else:
            what = "x terms" if self.variable else "constant terms"
            label = f"Move the {what} to the {'left' if self.dst == 'lhs' else 'right'} side"
        return Applied(new, label, self.dst, tuple(range(at, at + len(arriving))))

    def apply(self, line: Line) -> Applied | None:
        return self._move(line, -1)

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        if kind == "sign_error_moving":
            done = self._move(line, +1)
            return None if done is None else done.line
        return super().faulty(line, kind, rng)


class DivideBothSides(_Generic):
    """c·x = k  →  x = k/c."""

    kinds = ("sign_flip", "wrong_coefficient", "wrong_operation")

    def _parts(self, line: Line) -> tuple[Mono, list[Mono]] | None:
        if not isinstance(line, Equation) or len(line.lhs) != 1:
            return None
        (var,) = line.lhs
        if not isinstance(var, Mono) or var.powers != (("x", 1),) or var.c in (0, 1):
            return None
        if any(not isinstance(t, Mono) or t.powers for t in line.rhs):
            return None
        return var, list(line.rhs)  # type: ignore[arg-type]

    def apply(self, line: Line) -> Applied | None:
        parts = self._parts(line)
        if parts is None:
            return None
        var, rhs = parts
        new = Equation((mono(1, x=1),), tuple(Mono(t.c / var.c) for t in rhs))
        c = var.c
        shown = str(c) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"
        return Applied(new, f"Divide both sides by {shown}", "rhs", tuple(range(len(rhs))))

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        if kind == "wrong_operation":
            parts = self._parts(line)
            if parts is None:
                return None
            var, rhs = parts
            return Equation((mono(1, x=1),), tuple(Mono(t.c * var.c) for t in rhs))
        return super().faulty(line, kind, rng)


class SplitMiddleTerm(_Generic):
    """x² + (p+q)xu + pq·u²  →  x² + pxu + qxu + pq·u² (u is 1 or y)."""

    kinds = ("sign_flip", "wrong_coefficient")

    def __init__(self, p: int, q: int) -> None:
        self.p, self.q = p, q

    def _split(self, line: Line, p: int, q: int) -> Line | None:
        if isinstance(line, Equation) or len(line) != 3 or not all(
                isinstance(t, Mono) for t in line):
            return None
        first, middle, last = line
        return (first, Mono(Fraction(p), middle.powers), Mono(Fraction(q), middle.powers), last)

    def apply(self, line: Line) -> Applied | None:
        new = self._split(line, self.p, self.q)
        if new is None:
            return None
        return Applied(new, "Split the middle term", "expr", (1, 2))

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        p, q = self.p, self.q
        if kind == "sign_flip":  # same product pq, opposite sum
            return self._split(line, -p, -q)
        if kind == "wrong_coefficient":  # another factor pair of pq, wrong sum
            n = p * q
            pairs = [(d, n // d) for d in range(-abs(n), abs(n) + 1)
                     if d and n % d == 0 and d + n // d != p + q and {d, n // d} != {-p, -q}]
            if not pairs:
                return None
            return self._split(line, *rng.choice(pairs))
        return None


class FactorPairs(_Generic):
    """x² + b·xu + c·xu + d·u²  →  x(x + b·u) + c·u(x + (d/c)·u)."""

    kinds = ("sign_flip", "wrong_coefficient")

    def apply(self, line: Line) -> Applied | None:
        if isinstance(line, Equation) or len(line) != 4 or not all(
                isinstance(t, Mono) for t in line):
            return None
        a, b, c, d = line
        if a.c != 1 or a.powers != (("x", 2),) or c.c == 0:
            return None
        u = tuple((v, e) for v, e in b.powers if v != "x")
        xu = mul_powers((("x", 1),), u)
        if b.powers != xu or c.powers != xu or d.powers != mul_powers(u, u):
            return None
        x1 = mono(1, x=1)
        first = Prod(Fraction(1), (("x", 1),), (((x1, Mono(b.c, u)), 1),))
        second = Prod(c.c, u, (((x1, Mono(d.c / c.c, u)), 1),))
        return Applied((first, second), "Factor each pair of terms", "expr", (1,))


class FactorCommonBinomial(_Generic):
    """g₁·B + g₂·B  →  (g₁ + g₂)·B."""

    kinds = ("sign_flip", "wrong_coefficient")

    def _common(self, line: Line) -> tuple[tuple[Mono, ...], tuple[Mono, ...]] | None:
        if isinstance(line, Equation) or len(line) != 2 or not all(
                isinstance(t, Prod) and len(t.factors) == 1 and t.factors[0][1] == 1
                for t in line):
            return None
        first, second = line
        if first.factors != second.factors:
            return None
        outer = (Mono(first.c, first.powers), Mono(second.c, second.powers))
        return outer, first.factors[0][0]

    def _build(self, outer: tuple[Mono, ...], base: tuple[Mono, ...]) -> Line:
        return (Prod(Fraction(1), (), ((outer, 1), (base, 1))),)

    def apply(self, line: Line) -> Applied | None:
        found = self._common(line)
        if found is None:
            return None
        return Applied(self._build(*found), "Factor out the common binomial", "expr", (0,))

    def faulty(self, line: Line, kind: str, rng: random.Random) -> Line | None:
        found = self._common(line)
        if found is None:
            return None
        outer, base = found
        last = outer[-1]  # the error sits inside the new factor: (x + q) → (x − q) / (x + q′)
        if kind == "sign_flip":
            changed = negate(last)
        elif kind == "wrong_coefficient":
            changed = with_coef(last, _delta(rng, last.c))
        else:
            return None
        return self._build((*outer[:-1], changed), base)  # type: ignore[arg-type]


# -- families -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    family: str
    start: Line
    operations: tuple[Operation, ...]


def _nonzero(rng: random.Random, bound: int) -> int:
    return rng.choice([v for v in range(-bound, bound + 1) if v])


def _binomial(rng: random.Random, bound: int, two_vars: bool) -> tuple[Mono, ...]:
    a = rng.randint(1, min(bound, 4))
    second = mono(_nonzero(rng, bound), y=1) if two_vars else mono(_nonzero(rng, bound))
    return (mono(a, x=1), second)


def simplify_plan(rng: random.Random, n_terms: int, variables: int, bound: int) -> Plan:
    """n products such as 3(x − 2), −(2x + y)², (x + 1)(3x − 4), then group and combine."""
    two = variables == 2
    terms: list[Term] = []
    for _ in range(n_terms):
        shape = rng.choice(("scaled", "square", "foil"))
        outer = Fraction(rng.choice([-1, 1]) * rng.randint(1, min(bound, 5)))
        if shape == "scaled":
            outer = outer if abs(outer) > 1 else outer * 2
            terms.append(Prod(outer, (), ((_binomial(rng, bound, two), 1),)))
        elif shape == "square":
            terms.append(Prod(Fraction(rng.choice([-1, 1])), (), ((_binomial(rng, bound, two), 2),)))
        else:
            terms.append(Prod(Fraction(rng.choice([-1, 1])), (),
                              ((_binomial(rng, bound, two), 1), (_binomial(rng, bound, two), 1))))
    ops: list[Operation] = [ExpandProduct() for _ in range(n_terms)]
    ops += [GroupLikeTerms(), CombineLikeTerms()]
    return Plan("simplify", tuple(terms), tuple(ops))


def linear_equation_plan(rng: random.Random, bound: int) -> Plan:
    """a(x + b) + c = dx + e with an integer root, solved in seven steps."""
    while True:
        r, a, b, c = (_nonzero(rng, bound) for _ in range(4))
        a = a if abs(a) > 1 else 2 * a
        d = _nonzero(rng, bound)
        e = a * (r + b) + c - d * r
        if abs(a - d) >= 2 and e != 0 and a * b + c != 0:
            break
    lhs = (Prod(Fraction(a), (), (((mono(1, x=1), mono(b)), 1),)), mono(c))
    rhs = (mono(d, x=1), mono(e))
    ops: tuple[Operation, ...] = (
        ExpandProduct("lhs"),
        CombineLikeTerms("lhs"),
        MoveTerms("rhs", "lhs", variable=True),
        CombineLikeTerms("lhs"),
        MoveTerms("lhs", "rhs", variable=False),
        CombineLikeTerms("rhs"),
        DivideBothSides(),
    )
    return Plan("linear_equation", Equation(lhs, rhs), ops)


def factor_quadratic_plan(rng: random.Random, variables: int, bound: int) -> Plan:
    """x² + (p+q)xu + pq·u² factored by splitting the middle term (u is 1 or y)."""
    while True:
        p, q = _nonzero(rng, bound), _nonzero(rng, bound)
        if p != q and p + q != 0:
            break
    u = {"y": 1} if variables == 2 else {}
    start = (mono(1, x=2), mono(p + q, x=1, **u), mono(p * q, **{k: 2 * v for k, v in u.items()}))
    ops = (SplitMiddleTerm(p, q), FactorPairs(), FactorCommonBinomial())
    return Plan("factor_quadratic", start, ops)


# -- running a plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    lines: tuple[Line, ...]
    labels: tuple[str, ...]  # one per step: what the step means to do
    op_index: tuple[int, ...]  # the operation behind each step


def run(plan: Plan, fault: tuple[int, str] | None = None,
        rng: random.Random | None = None) -> tuple[Derivation, Line | None] | None:
    """Replay a plan, botching operation `fault[0]` in way `fault[1]`.

    Returns the derivation and, for a faulty one, the line the botched step
    should have produced; None when the fault does not fit this plan.
    """
    lines, labels, index = [plan.start], [], []
    intended: Line | None = None
    for j, op in enumerate(plan.operations):
        done = op.apply(lines[-1])
        if done is None:
            if fault is not None and fault[0] == j:
                return None
            continue
        line = done.line
        if fault is not None and fault[0] == j:
            assert rng is not None
            wrong = op.faulty(lines[-1], fault[1], rng)
            if wrong is None:
                return None
            intended, line = done.line, wrong
        lines.append(line)
        labels.append(done.label)
        index.append(j)
    return Derivation(tuple(lines), tuple(labels), tuple(index)), intended


def invalid_steps(lines: tuple[Line, ...] | list[Line]) -> list[int]:
    """1-based numbers of the steps whose line is not equivalent to the line before."""
    eq = isinstance(lines[0], Equation)
    polys = [line_poly(line) for line in lines]
    return [i + 1 for i in range(len(polys) - 1) if not equivalent(polys[i], polys[i + 1], eq)]
