"""The loop's cheap parts behave as the Lightning calls they replace: ``trained_alone`` freezes exactly what
``toggled_optimizer`` freezes, and a CPU fit's Adam steps no longer ask for CUDA (an NVML load a step once Lightning is
imported)."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch import Callback

from datamodules import Toy
from lit_gans import GAN
from lit_gans.base import finite_loss_and_grads, skip_cuda_graph_capture_check
from tests.helpers import tiny_trainer


class Probe(Callback):
    """Runs ``check(trainer, module)`` at the first training batch, then stops the fit."""

    def __init__(self, check) -> None:
        self.check = check

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.check(trainer, pl_module)
        trainer.should_stop = True


def test_trained_alone_freezes_what_toggled_optimizer_freezes(tmp_path):
    def check(trainer, model):
        params = list(model.generator.parameters()) + list(model.discriminator.parameters())
        params[0].requires_grad_(False)  # frozen by the user: stays frozen throughout
        shared = params[1]
        trainer.optimizers[1].param_groups[0]["params"].append(shared)  # a G parameter D's optimizer also holds
        before = [p.requires_grad for p in params]
        for optimizer in model.optimizers():
            with model.toggled_optimizer(optimizer):
                expected = [p.requires_grad for p in params]
            assert [p.requires_grad for p in params] == before
            with model.trained_alone(optimizer):
                assert [p.requires_grad for p in params] == expected
            assert [p.requires_grad for p in params] == before
        with model.trained_alone(model.optimizers()[1]):  # D's step: G frozen but its shared parameter
            assert shared.requires_grad and not params[2].requires_grad
            assert all(p.requires_grad for p in model.discriminator.parameters())

    data = Toy("ring", num_train=64, num_val=16, batch_size=16)
    tiny_trainer(tmp_path, max_steps=2, callbacks=[Probe(check)]).fit(GAN(data_shape=(2,), z_dim=4), data)


def test_cpu_adam_steps_do_not_ask_for_cuda(tmp_path, monkeypatch):
    asked = []
    real_is_available = torch.cuda.is_available
    monkeypatch.setattr(torch.cuda, "is_available", lambda: asked.append(1) or real_is_available())

    param = torch.zeros(3, requires_grad=True)
    param.grad = torch.ones(3)
    plain = torch.optim.Adam([param])
    plain.step()
    assert asked, "torch's Adam no longer checks for CUDA graphs: skip_cuda_graph_capture_check can go"
    asked.clear()
    skip_cuda_graph_capture_check(plain)
    plain.step()
    assert not asked

    def check(trainer, model):
        asked.clear()
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                for p in group["params"]:
                    p.grad = torch.zeros_like(p)
            optimizer.step()
        assert not asked  # the fit's own optimizers were set up in on_train_start

    data = Toy("ring", num_train=64, num_val=16, batch_size=16)
    tiny_trainer(tmp_path, max_steps=2, callbacks=[Probe(check)]).fit(GAN(data_shape=(2,), z_dim=4), data)


class CountsHooks(Callback):
    """A callback with hooks around backward and the optimizer step: Lightning's wrappers must then run."""

    def __init__(self) -> None:
        self.calls = {"on_after_backward": 0, "on_before_optimizer_step": 0}

    def on_after_backward(self, trainer, pl_module) -> None:
        self.calls["on_after_backward"] += 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.calls["on_before_optimizer_step"] += 1


def test_plain_updates_match_lightnings_wrapped_ones_and_hooks_still_run(tmp_path):
    def fit(callbacks):
        torch.manual_seed(0)
        model = GAN(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), n_critic=2, ema_decay=0.9)
        data = Toy("ring", num_train=64, num_val=16, batch_size=16, shuffle_seed=0)
        trainer = tiny_trainer(tmp_path, max_steps=10, limit_val_batches=0, callbacks=callbacks)
        trainer.fit(model, data)
        return model, trainer

    plain, plain_trainer = fit([])
    assert plain._plain_updates  # one CPU, full precision, no hooks: Lightning's wrappers are skipped
    counter = CountsHooks()
    wrapped, wrapped_trainer = fit([counter])
    assert not wrapped._plain_updates
    # 10 D updates and 5 G updates, each one backward pass and one optimizer step
    assert counter.calls == {"on_after_backward": 15, "on_before_optimizer_step": 15}
    assert plain_trainer.global_step == wrapped_trainer.global_step == 10
    expected = wrapped.state_dict()
    assert all(torch.equal(value, expected[key]) for key, value in plain.state_dict().items())


@pytest.mark.parametrize(
    ("bad_loss", "bad_grad", "finite"),
    [(None, None, True), (float("nan"), None, False), (float("inf"), None, False), (None, (0, float("nan")), False),
     (None, (1, float("inf")), False), (None, (2, -float("inf")), False)],
)  # fmt: skip
def test_the_guards_check_finds_every_nan_and_inf_and_changes_no_gradient(bad_loss, bad_grad, finite):
    grads = [torch.randn(4, 3), torch.randn(7), torch.randn(2, 2).bfloat16()]  # two dtypes: two fused passes
    if bad_grad is not None:
        grads[bad_grad[0]].view(-1)[1] = bad_grad[1]
    before = [grad.clone() for grad in grads]
    loss = torch.tensor(0.3 if bad_loss is None else bad_loss)
    assert bool(finite_loss_and_grads(loss, grads)) is finite
    for grad, copy in zip(grads, before):  # bit for bit, NaNs where they were
        torch.testing.assert_close(grad, copy, rtol=0, atol=0, equal_nan=True)
    assert bool(finite_loss_and_grads(torch.tensor(1.0), [])) is True
