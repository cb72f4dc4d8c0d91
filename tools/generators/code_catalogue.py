"""The catalogue of small Python functions that code-debugging items are made from.

Each entry has its source (one top-level function with a docstring saying
what it is meant to do), unit tests as (arguments, expected result) pairs, and
extra probe inputs that questions may ask about. Arguments and results are
plain literals (lists, ints, strings, bools, None) so they travel as JSON and
through `marshal` to the test subprocess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CatalogueFunction:
    name: str
    source: str
    tests: tuple[tuple[tuple[Any, ...], Any], ...]
    probes: tuple[tuple[Any, ...], ...] = ()


CATALOGUE: tuple[CatalogueFunction, ...] = (
    CatalogueFunction(
        "binary_search",
        '''
def binary_search(xs, target):
    """Index of target in the sorted list xs, or -1 if it is absent."""
    lo, hi = 0, len(xs) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if xs[mid] == target:
            return mid
        if xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1
''',
        (
            (([1, 3, 5, 7, 9], 7), 3),
            (([1, 3, 5, 7, 9], 1), 0),
            (([1, 3, 5, 7, 9], 9), 4),
            (([1, 3, 5, 7, 9], 4), -1),
            (([], 3), -1),
            (([2], 2), 0),
            (([1, 2, 3, 4, 5, 6], 6), 5),
        ),
        (([2, 4, 6, 8], 8), ([2, 4, 6, 8], 2), ([10, 20, 30], 25)),
    ),
    CatalogueFunction(
        "sum_of_evens",
        '''
def sum_of_evens(xs):
    """Sum of the even numbers in xs."""
    total = 0
    for x in xs:
        if x % 2 == 0:
            total += x
    return total
''',
        (
            (([1, 2, 3, 4],), 6),
            (([],), 0),
            (([1, 3, 5],), 0),
            (([-2, 3, 8],), 6),
            (([10],), 10),
        ),
        (([2, 5, 6, 7],), ([4, 4, 1],)),
    ),
    CatalogueFunction(
        "factorial",
        '''
def factorial(n):
    """n! for a non-negative integer n."""
    result = 1
    for k in range(2, n + 1):
        result *= k
    return result
''',
        (((0,), 1), ((1,), 1), ((3,), 6), ((5,), 120), ((7,), 5040)),
        ((4,), (6,)),
    ),
    CatalogueFunction(
        "is_palindrome",
        '''
def is_palindrome(s):
    """True if s reads the same both ways, ignoring case and non-alphanumerics."""
    chars = [c.lower() for c in s if c.isalnum()]
    i, j = 0, len(chars) - 1
    while i < j:
        if chars[i] != chars[j]:
            return False
        i += 1
        j -= 1
    return True
''',
        (
            (("racecar",), True),
            (("A man, a plan, a canal: Panama",), True),
            (("hello",), False),
            (("",), True),
            (("ab",), False),
            (("abca",), False),
            (("Noon",), True),
        ),
        (("level",), ("abcba",), ("abcd",)),
    ),
    CatalogueFunction(
        "max_subarray",
        '''
def max_subarray(xs):
    """Largest sum of a non-empty contiguous run of xs (Kadane's algorithm)."""
    best = xs[0]
    current = 0
    for x in xs:
        current = max(x, current + x)
        best = max(best, current)
    return best
''',
        (
            (([-2, 1, -3, 4, -1, 2, 1, -5, 4],), 6),
            (([1],), 1),
            (([-3, -1, -2],), -1),
            (([5, -2, 5],), 8),
            (([2, 3, -10, 4],), 5),
        ),
        (([3, -1, 2],), ([-5, 4, -1, 3],)),
    ),
    CatalogueFunction(
        "count_vowels",
        '''
def count_vowels(s):
    """Number of vowels (a, e, i, o, u; any case) in s."""
    count = 0
    for ch in s.lower():
        if ch in "aeiou":
            count += 1
    return count
''',
        ((("hello",), 2), (("",), 0), (("AEIOU",), 5), (("rhythm",), 0), (("Programming",), 3)),
        (("banana",), ("Queue",)),
    ),
    CatalogueFunction(
        "prefix_sums",
        '''
def prefix_sums(xs):
    """Running totals: element i is the sum of xs[0..i]."""
    sums = []
    total = 0
    for x in xs:
        total += x
        sums.append(total)
    return sums
''',
        ((([1, 2, 3],), [1, 3, 6]), (([],), []), (([5],), [5]), (([2, -2, 2],), [2, 0, 2])),
        (([4, 1, 3],), ([1, 1, 1, 1],)),
    ),
    CatalogueFunction(
        "gcd",
        '''
def gcd(a, b):
    """Greatest common divisor of a and b (non-negative)."""
    while b != 0:
        a, b = b, a % b
    return abs(a)
''',
        (((12, 18), 6), ((7, 5), 1), ((0, 9), 9), ((21, 14), 7), ((-4, 6), 2)),
        ((48, 36), (10, 4)),
    ),
    CatalogueFunction(
        "rotate_left",
        '''
def rotate_left(xs, k):
    """xs rotated k places to the left (k may exceed the length)."""
    if not xs:
        return []
    k = k % len(xs)
    return xs[k:] + xs[:k]
''',
        (
            (([1, 2, 3, 4, 5], 2), [3, 4, 5, 1, 2]),
            (([1, 2, 3], 0), [1, 2, 3]),
            (([1, 2, 3], 4), [2, 3, 1]),
            (([], 3), []),
            (([7], 1), [7]),
        ),
        (([1, 2, 3, 4], 1), ([5, 6, 7], 5)),
    ),
    CatalogueFunction(
        "merge_sorted",
        '''
def merge_sorted(a, b):
    """The sorted merge of two sorted lists."""
    result = []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            result.append(a[i])
            i += 1
        else:
            result.append(b[j])
            j += 1
    result.extend(a[i:])
    result.extend(b[j:])
    return result
''',
        (
            (([1, 4, 6], [2, 3, 7]), [1, 2, 3, 4, 6, 7]),
            (([], [1, 2]), [1, 2]),
            (([1, 2], []), [1, 2]),
            (([1, 1], [1]), [1, 1, 1]),
            (([5], [1, 9]), [1, 5, 9]),
        ),
        (([2, 8], [3, 4]), ([1, 5, 9], [6])),
    ),
    CatalogueFunction(
        "clamp",
        '''
def clamp(x, lo, hi):
    """x limited to the closed interval [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
''',
        (((5, 0, 10), 5), ((-3, 0, 10), 0), ((12, 0, 10), 10), ((0, 0, 10), 0),
         ((10, 0, 10), 10)),
        ((7, 2, 6), (1, 2, 6), (4, 2, 6)),
    ),
    CatalogueFunction(
        "fibonacci",
        '''
def fibonacci(n):
    """The n-th Fibonacci number, with fibonacci(0) = 0 and fibonacci(1) = 1."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
''',
        (((0,), 0), ((1,), 1), ((2,), 1), ((7,), 13), ((10,), 55)),
        ((5,), (8,)),
    ),
    CatalogueFunction(
        "second_largest",
        '''
def second_largest(xs):
    """The second largest distinct value in xs, or None if there is none."""
    first = second = None
    for x in xs:
        if first is None or x > first:
            first, second = x, first
        elif x != first and (second is None or x > second):
            second = x
    return second
''',
        (
            (([3, 1, 4, 1, 5],), 4),
            (([2, 2],), None),
            (([7],), None),
            (([5, 9],), 5),
            (([10, 8, 9],), 9),
        ),
        (([4, 6, 5],), ([1, 2, 3, 4],)),
    ),
    CatalogueFunction(
        "is_prime",
        '''
def is_prime(n):
    """True if n is a prime number."""
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True
''',
        (((1,), False), ((2,), True), ((9,), False), ((13,), True), ((25,), False),
         ((29,), True)),
        ((15,), (17,), (49,)),
    ),
    CatalogueFunction(
        "digit_sum",
        '''
def digit_sum(n):
    """Sum of the decimal digits of n (sign ignored)."""
    n = abs(n)
    total = 0
    while n > 0:
        total += n % 10
        n //= 10
    return total
''',
        (((0,), 0), ((123,), 6), ((-45,), 9), ((9,), 9), ((1000,), 1)),
        ((58,), (907,)),
    ),
    CatalogueFunction(
        "chunk",
        '''
def chunk(xs, size):
    """xs cut into consecutive lists of length size (the last may be shorter)."""
    chunks = []
    for i in range(0, len(xs), size):
        chunks.append(xs[i:i + size])
    return chunks
''',
        (
            (([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]),
            (([], 3), []),
            (([1, 2, 3], 3), [[1, 2, 3]]),
            (([1, 2, 3], 1), [[1], [2], [3]]),
        ),
        (([1, 2, 3, 4], 3), ([6, 7, 8, 9], 2)),
    ),
)

BY_NAME = {f.name: f for f in CATALOGUE}
