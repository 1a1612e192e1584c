"""float32 multiply-adds c + a * b whose float64 sum lands exactly on a float32 rounding
midpoint that the exact sum is not on, and their correctly rounded results.

Rounding the float64 sum again to float32 (two roundings) gets these wrong; a true fused
multiply-add (one rounding) gets them right. Every optimizer path computes its float32
multiply-adds correctly rounded (kernels/optim.cuh `fmadd`, optim/_functional.py `_fma_`), and
the tests check each against `CASES`. The reference is exact arithmetic (fractions) rounded
to float32 here, half to even, not any code under test.

The factors: mantissas M1 = 2^23 + x and M2 = 2^23 - x + 1 multiply to 2^46 + 2^23 - x (x - 1),
within 2^-29 of 2^46 (relatively) for x near 2^11.5, a product just off a power of two that
float64 cannot hold next to a larger c. Scaled to half (or a quarter of) a float32 ulp of c,
a * b then sits just off c's rounding midpoint.
"""
from fractions import Fraction

import numpy as np

F32_MAX = float(np.finfo(np.float32).max)


def round_to_float32(x):
    """Fraction `x` rounded to the nearest float32, ties to even: subnormals, overflow to
    +-inf; 0 gives +0.0 (the caller decides the sign of a zero)."""
    if x == 0:
        return np.float32(0.0)
    m = abs(x)
    e = m.numerator.bit_length() - m.denominator.bit_length()
    if Fraction(2) ** e > m:
        e -= 1  # now 2^e <= m < 2^(e + 1)
    quantum = Fraction(2) ** (max(e, -126) - 23)
    value = round(m / quantum) * quantum  # (round of a Fraction: half to even)
    out = np.float32(np.inf) if value >= Fraction(2) ** 128 else np.float32(float(value))
    return -out if x < 0 else out


def exact_fma(a, b, c):
    """The correctly rounded float32 c + a * b of float32 numbers (IEEE's sign of zero)."""
    x = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if x == 0:
        p = float(a) * float(b)  # exact
        both_negative = np.signbit(p) and np.signbit(c)
        return np.float32(-0.0) if both_negative else np.float32(0.0)
    return round_to_float32(x)


def rounded_twice(a, b, c):
    """c + a * b rounded to float64, then to float32 (the product is exact in float64)."""
    with np.errstate(over="ignore"):  # (next to the largest float32: inf)
        return np.float32(float(a) * float(b) + float(c))


def _exponent(c):
    return max(int(np.frexp(abs(float(c)))[1]) - 1, -126)


# c: ties up and down (even and odd last bits), a power of two (whose midpoint below is
# a quarter ulp away), large and small exponents, the largest float (whose midpoint above
# rounds to inf) and subnormals (the results subnormal too)
_CS = [1.0, 1.0 + 2.0 ** -23, 3.0, 1.5 * 2.0 ** 20, 2.0 ** -100, 1.25 * 2.0 ** 100, F32_MAX,
       (2 ** 22) * 2.0 ** -149, (2 ** 22 + 1) * 2.0 ** -149, (2 ** 23 - 2) * 2.0 ** -149]


def _find():
    cases = []
    for x in range(2880, 2920):
        m1, m2 = 2 ** 23 + x, 2 ** 23 - x + 1
        if abs(m1 * m2 - 2 ** 46) >= 2 ** 17:
            continue
        for c0 in _CS:
            for k in (_exponent(c0) - 24, _exponent(c0) - 25):
                kb = k // 2
                b = np.float32(m2 * 2.0 ** (kb - 23))
                for sa in (1, -1):
                    for sc in (1, -1):
                        a = np.float32(sa * m1 * 2.0 ** (k - kb - 23))
                        c = np.float32(sc * c0)
                        want = exact_fma(a, b, c)
                        if rounded_twice(a, b, c).tobytes() != want.tobytes():
                            cases.append((a, b, c, want))
    return cases


_MIDPOINTS = _find()
# and signs of exact zeros: x - x is +0, -0 + -0 is -0
_ZEROS = [(np.float32(2.0), b, np.float32(-2.0 * b), np.float32(0.0)) for b in
          sorted({b for _, b, _, _ in _MIDPOINTS})[:2]] + [
    (np.float32(-0.0), np.float32(1.5), np.float32(-0.0), np.float32(-0.0)),
    (np.float32(0.0), np.float32(1.5), np.float32(-0.0), np.float32(0.0))]
CASES = _MIDPOINTS + _ZEROS


def by_factor():
    """CASES grouped by b (for paths whose factor is one number): {b: (a, c, want)} as
    float32 arrays."""
    groups = {}
    for a, b, c, want in CASES:
        groups.setdefault(float(b), []).append((a, c, want))
    return {b: tuple(np.array(col, np.float32) for col in zip(*rows))
            for b, rows in groups.items()}


def assert_same_bits(got, want):
    """float32 or float64 arrays equal bit for bit (+0 and -0 told apart), NaN where the other
    has NaN (whatever its payload)."""
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    bits = np.uint32 if want.dtype == np.float32 else np.uint64
    assert np.array_equal(got.view(bits)[~nan], want.view(bits)[~nan])


def assert_bits(got, want, what=""):
    """float32 arrays equal bit for bit (so +0 and -0 are told apart); `what` names the path."""
    got, want = np.asarray(got, np.float32), np.asarray(want, np.float32)
    bad = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
    assert bad.size == 0, (f"{what}: {bad.size} of {got.size} differ, e.g. got "
                           f"{got[bad[:4]]!r} want {want[bad[:4]]!r}")
