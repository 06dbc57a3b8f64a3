"""Coefficients of the float32 GELU-erf kernels' erfc (lib/backend/fast/vector-erf.ts).

    erfc(z) = t · q(t) · e^(−z²),  t = 1/(1 + z/2),  z ≥ 0

q(t) = erfcx(z)/t is smooth on t ∈ (0, 1] (it tends to 1/(2√π) as z → ∞), so a polynomial
fits it; the substitution is the one of Numerical Recipes' `erfcc` (§6.2), the fit is our own:
a least-squares Chebyshev fit of degree 9, weighted for relative error, on t ∈ [1/6, 1]
(z ∈ [0, 10]; beyond 10, e^(−z²) < 1e-43 is below float32's normal range anyway), turned into
powers of t and rounded to float32. It prints the relative error of q in float64 and in
float32 Horner arithmetic, then the coefficients, constant term first.

    python3 bench/tools/fit-erfc.py
"""
import numpy as np
from numpy.polynomial import Polynomial, chebyshev
from scipy.special import erfcx

DEGREE = 9
LO = 1 / 6
t = np.linspace(LO, 1, 400001)
z = 2 * (1 - t) / t
q = erfcx(z) / t
u = (2 * t - (1 + LO)) / (1 - LO)  # t ∈ [LO, 1] → u ∈ [−1, 1]
cheb = chebyshev.chebfit(u, q, DEGREE, w=1 / q)
power = Polynomial(chebyshev.cheb2poly(cheb))(Polynomial([-(1 + LO) / (1 - LO), 2 / (1 - LO)])).coef
coef32 = power.astype(np.float32)
t32 = t.astype(np.float32)
acc = coef32[-1]
for a in coef32[-2::-1]:
    acc = (acc * t32 + a).astype(np.float32)
print(f"max relative error of q: {np.max(np.abs(Polynomial(power)(t) / q - 1)):.3g} (float64), "
      f"{np.max(np.abs(acc / q - 1)):.3g} (float32 Horner, float32 coefficients)")
print("[" + ", ".join(repr(float(c)) for c in coef32) + "]")
