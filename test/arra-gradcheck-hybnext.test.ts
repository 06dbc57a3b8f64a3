/**
 * Full-loss gradient check of L_ARRA = L_AR + λ·L_GVA in `hybnext` mode: float64 central
 * differences (ε = 1e-6) against backward, for EVERY parameter element of the tiny transformer
 * (embedding, both blocks, final norm, output head — randomised, as LlamaGen starts it at 0)
 * and of the projector; cosine and mse objectives; aligned block = first and last.
 * Tolerance per element |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric|; worst relative error < 1e-6.
 */
import t from 'tap';
import { fullLossGradcheckSuite } from './arra-fixture';

fullLossGradcheckSuite(t, 'hybnext');
