"""Mixed precision through the manual loop on the CPU: bf16 autocast in every objective's steps (the gradient
penalties' double backward included), and the fp16 grad-scaler path, driven with a CPU ``GradScaler`` since the CPU
has no fp16 autocast worth training in."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch import Callback
from lightning.pytorch.plugins.precision import MixedPrecision

from datamodules import Shapes, Toy
from lit_gans import DRAGAN, GAN, WGANGP, WGANDiv
from tests.helpers import tiny_trainer


def autocast_spy(cls):
    """``cls`` recording, at every D and G step, whether CPU autocast is on and its dtype."""

    class Spy(cls):
        def d_step(self, batch):
            self.seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
            return super().d_step(batch)

        def g_step(self, batch):
            self.seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
            return super().g_step(batch)

    Spy.__name__ = cls.__name__
    return Spy


@pytest.mark.parametrize("cls", [GAN, WGANGP, WGANDiv, DRAGAN])
def test_bf16_mixed_runs_every_step_under_autocast(tmp_path, cls):
    nets = {"g_hidden": (16,), "d_hidden": (16,)} if cls is GAN else {"g_features": 4, "d_features": 4}
    model = autocast_spy(cls)(data_shape=(3, 16, 16), n_critic=2, **nets)
    model.seen = []
    before = [p.detach().clone() for p in model.discriminator.parameters()]
    data = Shapes(image_size=16, channels=3, num_train=64, num_val=8, batch_size=8)
    tiny_trainer(tmp_path, max_steps=4, precision="bf16-mixed", limit_val_batches=0).fit(model, data)
    assert (model.d_steps, model.g_steps) == (4, 2)
    assert model.seen == [(True, torch.bfloat16)] * 6  # 4 D steps and 2 G steps, each under bf16 autocast
    after = list(model.discriminator.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(after, before))  # D was updated
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights stay fp32


def test_fp16_grad_scaler_skips_an_inf_gradient_and_goes_on(tmp_path):
    """With a grad scaler the guard checks the loss alone: an inf gradient with a finite loss is the scaler's to
    skip (the update is dropped, the scale halved), and training goes on."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    plugin = MixedPrecision("16-mixed", "cpu", scaler=scaler)
    model = GAN(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,))
    d_weight = next(model.discriminator.parameters())
    snapshots = []

    def poison(grad):  # the D step of the 3rd batch gets an inf gradient
        return grad * float("inf") if model.d_steps == 2 else grad

    d_weight.register_hook(poison)

    class Recorder(Callback):
        def on_train_batch_end(self, trainer, pl_module, *args):
            snapshots.append((d_weight.detach().clone(), scaler.get_scale()))

    trainer = tiny_trainer(tmp_path, max_steps=5, plugins=[plugin], limit_val_batches=0, callbacks=[Recorder()])
    trainer.fit(model, Toy(num_train=128, num_val=16, batch_size=16))
    assert model.d_steps == 5 and model.skipped_updates == 0  # the guard let the scaler handle it
    assert torch.equal(snapshots[2][0], snapshots[1][0])  # the poisoned D update was skipped
    assert not torch.equal(snapshots[3][0], snapshots[2][0])  # and the next one went through
    assert snapshots[2][1] < snapshots[1][1]  # the scale backed off
    assert all(torch.isfinite(weight).all() for weight, _ in snapshots)
