"""The algebra of faulty-step proofs: terms, their text, JSON form and exact value.

A line of a derivation is either an expression (a sum of terms) or an
equation (two sums). A term is a monomial (`Mono`: coefficient × powers) or a
product (`Prod`: coefficient × powers × (sum)^n × ...), which is enough for
distributing, squaring binomials, FOIL, collecting like terms, grouping and
factoring. Coefficients are exact `Fraction`s.

Each line is turned into a SymPy sparse polynomial over QQ
(`sympy.polys.rings`): comparing two of them is an exact polynomial identity
test that costs microseconds, so every step of every proof can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement, ring

VARIABLES = ("x", "y")
_RING, *_ = ring(",".join(VARIABLES), QQ)

Powers = tuple[tuple[str, int], ...]  # sorted by variable, exponents >= 1


@dataclass(frozen=True)
class Mono:
    c: Fraction
    powers: Powers = ()

    @property
    def degree(self) -> int:
        return sum(e for _, e in self.powers)


@dataclass(frozen=True)
class Prod:
    """c · powers · Π (sum)^n — e.g. 3(x - 2), -(x + 2)^2, x(x + 5), (2x + 1)(x - 3)."""

    c: Fraction
    powers: Powers
    factors: tuple[tuple[tuple[Mono, ...], int], ...]


Term = Mono | Prod
Expr = tuple[Term, ...]


@dataclass(frozen=True)
class Equation:
    lhs: Expr
    rhs: Expr


Line = Expr | Equation


def mono(c: int | Fraction, **powers: int) -> Mono:
    return Mono(Fraction(c), tuple(sorted((v, e) for v, e in powers.items() if e)))


def mul_powers(a: Powers, b: Powers) -> Powers:
    merged = dict(a)
    for v, e in b:
        merged[v] = merged.get(v, 0) + e
    return tuple(sorted(merged.items()))


def mono_mul(a: Mono, b: Mono) -> Mono:
    return Mono(a.c * b.c, mul_powers(a.powers, b.powers))


def negate(term: Term) -> Term:
    if isinstance(term, Mono):
        return Mono(-term.c, term.powers)
    return Prod(-term.c, term.powers, term.factors)


def with_coef(term: Term, c: Fraction) -> Term:
    if isinstance(term, Mono):
        return Mono(c, term.powers)
    return Prod(c, term.powers, term.factors)


def degree_key(m: Mono) -> tuple[int, tuple[int, ...]]:
    """Descending total degree, then x before y: the usual order of a polynomial."""
    exps = dict(m.powers)
    return (-m.degree, tuple(-exps.get(v, 0) for v in VARIABLES))


def combine(monos: list[Mono]) -> list[Mono]:
    """Collect like terms, drop zeros, order by degree; an all-zero sum is [0]."""
    sums: dict[Powers, Fraction] = {}
    for m in monos:
        sums[m.powers] = sums.get(m.powers, Fraction(0)) + m.c
    result = sorted((Mono(c, p) for p, c in sums.items() if c), key=degree_key)
    return result or [Mono(Fraction(0))]


def multiply(a: list[Mono], b: list[Mono]) -> list[Mono]:
    """Term-by-term product in FOIL order, not collected."""
    return [mono_mul(x, y) for x in a for y in b]


def expand_power(base: tuple[Mono, ...], n: int) -> list[Mono]:
    """(a + b)^2 by the binomial formula (a² + 2ab + b²); other powers collected."""
    if n == 1:
        return list(base)
    if n == 2 and len(base) == 2:
        a, b = base
        return [mono_mul(a, a), mono_mul(Mono(Fraction(2)), mono_mul(a, b)), mono_mul(b, b)]
    result = list(base)
    for _ in range(n - 1):
        result = combine(multiply(result, list(base)))
    return result


def expand_prod(term: Prod) -> list[Mono]:
    """The product multiplied out: factors in FOIL order, then the outer coefficient."""
    result = [Mono(Fraction(1))]
    for base, n in term.factors:
        result = multiply(result, expand_power(base, n))
    outer = Mono(term.c, term.powers)
    return [mono_mul(outer, m) for m in result]


# -- exact value --------------------------------------------------------------------------------

_INDEX = {v: i for i, v in enumerate(VARIABLES)}


def _mono_key(powers: Powers) -> tuple[int, ...]:
    exps = [0] * len(VARIABLES)
    for v, e in powers:
        exps[_INDEX[v]] += e
    return tuple(exps)


def _sum_poly(monos: tuple[Mono, ...] | list[Mono]) -> PolyElement:
    coeffs: dict[tuple[int, ...], Any] = {}
    for m in monos:
        key = _mono_key(m.powers)
        coeffs[key] = coeffs.get(key, 0) + QQ(m.c.numerator, m.c.denominator)
    return _RING({k: c for k, c in coeffs.items() if c})


def poly(line: Expr) -> PolyElement:
    """The exact polynomial value of an expression."""
    total = _sum_poly([t for t in line if isinstance(t, Mono)])
    for term in line:
        if isinstance(term, Prod):
            value = _sum_poly([Mono(term.c, term.powers)])
            for base, n in term.factors:
                value *= _sum_poly(base) ** n
            total += value
    return total


def line_poly(line: Line) -> PolyElement:
    """An expression's value; for an equation, lhs − rhs."""
    if isinstance(line, Equation):
        return poly(line.lhs) - poly(line.rhs)
    return poly(line)


def equivalent(before: PolyElement, after: PolyElement, equation: bool) -> bool:
    """Expressions: equal. Equations (polynomial = 0): equal up to a nonzero constant factor."""
    if not equation:
        return before == after
    if not before or not after:
        return before == after
    return before * after.LC == after * before.LC


# -- text ---------------------------------------------------------------------------------------


def _coef_text(c: Fraction, bare: bool) -> str:
    """|c| as the coefficient of a term; `bare` when nothing follows it."""
    c = abs(c)
    if bare:
        return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"
    if c == 1:
        return ""
    if c.denominator == 1:
        return str(c.numerator)
    return f"({c.numerator}/{c.denominator})"


def _powers_text(powers: Powers) -> str:
    return "".join(v if e == 1 else f"{v}^{e}" for v, e in powers)


def _body(term: Term) -> str:
    """A term without its sign."""
    if isinstance(term, Mono):
        return _coef_text(term.c, bare=not term.powers) + _powers_text(term.powers)
    head = _coef_text(term.c, bare=False) + _powers_text(term.powers)
    tail = "".join(f"({sum_text(base)})" + (f"^{n}" if n > 1 else "")
                   for base, n in term.factors)
    return head + tail


def sum_text(terms: Expr | tuple[Mono, ...] | list[Mono]) -> str:
    if not terms:
        return "0"
    parts = []
    for i, term in enumerate(terms):
        sign = term.c < 0
        body = _body(term)
        if i == 0:
            parts.append(("-" if sign else "") + body)
        else:
            parts.append((" - " if sign else " + ") + body)
    return "".join(parts)


def line_text(line: Line) -> str:
    if isinstance(line, Equation):
        return f"{sum_text(line.lhs)} = {sum_text(line.rhs)}"
    return sum_text(line)


# -- JSON form ----------------------------------------------------------------------------------


def _coef_json(c: Fraction) -> int | str:
    return c.numerator if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def _term_json(term: Term) -> list[Any]:
    powers = [[v, e] for v, e in term.powers]
    if isinstance(term, Mono):
        return ["m", _coef_json(term.c), powers]
    factors = [[[_term_json(m) for m in base], n] for base, n in term.factors]
    return ["p", _coef_json(term.c), powers, factors]


def line_json(line: Line) -> Any:
    if isinstance(line, Equation):
        return {"lhs": [_term_json(t) for t in line.lhs], "rhs": [_term_json(t) for t in line.rhs]}
    return [_term_json(t) for t in line]


def _term_from(data: list[Any]) -> Term:
    kind, c, powers = data[0], Fraction(data[1]), tuple((v, int(e)) for v, e in data[2])
    if any(v not in VARIABLES or e < 1 for v, e in powers):
        raise ValueError(f"bad powers {powers!r}")
    if kind == "m":
        return Mono(c, powers)
    if kind == "p":
        factors = []
        for base, n in data[3]:
            monos = tuple(_term_from(m) for m in base)
            if not all(isinstance(m, Mono) for m in monos) or int(n) < 1:
                raise ValueError("a factor is a sum of monomials raised to n >= 1")
            factors.append((monos, int(n)))
        return Prod(c, powers, tuple(factors))  # type: ignore[arg-type]
    raise ValueError(f"unknown term kind {kind!r}")


def line_from_json(data: Any) -> Line:
    """Inverse of line_json; ValueError on malformed data."""
    if isinstance(data, dict):
        return Equation(tuple(_term_from(t) for t in data["lhs"]),
                        tuple(_term_from(t) for t in data["rhs"]))
    return tuple(_term_from(t) for t in data)
