"""Mode-collapse metrics and 1D distances against hand-computed values."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from datamodules.toy import gaussian1d, grid, ring
from lit_gans.metrics import distance_to_gaussian_1d, high_quality_per_mode, mode_collapse_metrics
from lit_gans.metrics.toy import mixture_cdf_1d, mixture_quantile_1d


def test_counts_on_hand_placed_points():
    mixture = ring()
    modes = mixture.modes
    far = torch.tensor([[5.0, 5.0]])
    near_edge = modes[2] + torch.tensor([0.0299, 0.0])  # within 3 std (0.03) of mode 2
    samples = torch.cat([modes[0:1], modes[0:1], modes[1:2], near_edge[None], far])
    out = mode_collapse_metrics(samples, modes, mixture.std)
    assert out["modes"].item() == 3
    assert_close(out["high_quality"], torch.tensor(4 / 5, dtype=torch.float64))
    q = torch.tensor([2 / 4, 1 / 4, 1 / 4], dtype=torch.float64)
    assert_close(out["reverse_kl"], (q * (q * 8).log()).sum())
    # the histogram behind them: the far point counts nowhere, the rest at their own mode
    assert high_quality_per_mode(samples, modes, mixture.std).tolist() == [2, 1, 1, 0, 0, 0, 0, 0]
    just_outside = modes[5] + torch.tensor([0.0, 0.0301])
    assert high_quality_per_mode(just_outside[None], modes, mixture.std).tolist() == [0] * 8


def test_a_perfect_sampler_scores_the_published_ceiling_and_a_collapsed_one_log_k():
    for mixture, num_modes in ((ring(), 8), (grid(), 25)):
        samples, _ = mixture.sample(20_000, torch.Generator().manual_seed(0))
        out = mode_collapse_metrics(samples, mixture.modes, mixture.std)
        assert out["modes"].item() == num_modes
        # within 3 std in 2D: 1 - exp(-9/2) = 0.98889; 20,000 samples give a standard error of 0.0007
        assert_close(out["high_quality"].item(), 1 - math.exp(-4.5), atol=0.003, rtol=0)
        assert out["reverse_kl"].item() < 0.005
        collapsed = mode_collapse_metrics(mixture.modes[3:4].expand(100, 2), mixture.modes, mixture.std)
        assert collapsed["modes"].item() == 1
        assert_close(collapsed["reverse_kl"].item(), math.log(num_modes))
    nothing = mode_collapse_metrics(torch.full((10, 2), 9.0), ring().modes, 0.01)
    assert nothing["modes"].item() == 0 and nothing["high_quality"].item() == 0


def test_mixture_quantile_inverts_the_cdf():
    means = torch.tensor([-1.0, 2.0])
    x = torch.linspace(-4, 5, 50, dtype=torch.float64)
    assert_close(mixture_quantile_1d(mixture_cdf_1d(x, means, 0.7), means, 0.7), x, atol=1e-8, rtol=0)


def test_1d_distances_are_small_for_true_samples_and_see_a_shift():
    mixture = gaussian1d()  # N(-1, 1)
    samples, _ = mixture.sample(10_000, torch.Generator().manual_seed(0))
    true = distance_to_gaussian_1d(samples, mixture.modes[:, 0], mixture.std)
    assert true["wasserstein1"].item() < 0.03 and true["ks"].item() < 0.02  # ~ 1/sqrt(N) scale
    shifted = distance_to_gaussian_1d(samples + 0.5, mixture.modes[:, 0], mixture.std)
    # W1 of a shift by 0.5 is 0.5; KS of N(0.5, 1) against N(0, 1) is 2 Phi(0.25) - 1 = 0.1974
    assert_close(shifted["wasserstein1"].item(), 0.5, atol=0.03, rtol=0)
    assert_close(shifted["ks"].item(), math.erf(0.25 / math.sqrt(2)), atol=0.015, rtol=0)
