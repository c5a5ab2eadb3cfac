"""Instance noise (GAN(instance_noise=sigma_0)): the schedule against its closed form, the noise's statistics, the
std D's inputs carry at each step of a run, a resumed run, and the errors."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch import Callback, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.trainer import Trainer

from datamodules import Shapes, Toy
from lit_gans import DCGAN, GAN
from lit_gans.errors import LitGansError
from lit_gans.regularizers import annealed_noise_std, instance_noise
from tests.helpers import StopAt, final_state, tiny_trainer


def test_the_schedule_falls_linearly_from_sigma_0_to_zero_at_the_end_step_and_stays_there():
    assert annealed_noise_std(2.0, 0, 10) == 2.0
    assert annealed_noise_std(2.0, 3, 10) == pytest.approx(1.4, abs=1e-12)  # 2 (1 - 3/10)
    assert annealed_noise_std(2.0, 10, 10) == 0.0
    assert annealed_noise_std(2.0, 25, 10) == 0.0
    assert annealed_noise_std(2.0, 0, 0) == 0.0


def test_the_noise_is_centred_gaussian_of_the_given_std_and_off_at_zero():
    x = torch.full((200_000, 2), 3.0)
    noisy = instance_noise(x, 0.5)
    offset = noisy - x
    # 400,000 draws: the mean's standard error is 0.5 / 632 ~ 8e-4, the std's ~ 6e-4
    assert offset.mean().item() == pytest.approx(0.0, abs=4e-3)
    assert offset.std().item() == pytest.approx(0.5, abs=4e-3)
    assert instance_noise(x, 0.0) is x


def build(updates_per_batch: int = 1, **options) -> tuple[GAN, Toy]:
    model = GAN(
        data_shape=(2,),
        z_dim=4,
        g_hidden=(16,),
        d_hidden=(16,),
        ema_decay=0.9,
        updates_per_batch=updates_per_batch,
        **options,
    )
    return model, Toy(distribution="grid", num_train=256, num_val=32, batch_size=32 * updates_per_batch)


class MeasureDiscriminatorInputNoise(Callback):
    """Before each batch: the std of the noise ``discriminator_input`` adds to ``clean`` zeros (20,000 points by
    default), and the shape D receives."""

    def __init__(self, clean: torch.Tensor | None = None) -> None:
        self.clean = torch.zeros(20_000, 2) if clean is None else clean
        self.rows: list[tuple[int, float]] = []
        self.shapes: list[tuple[int, ...]] = []

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        with torch.random.fork_rng():  # the run's own draws stay as they were
            view = pl_module.discriminator_input(self.clean)
        self.shapes.append(tuple(view.shape))
        self.rows.append((trainer.global_step, view.std().item()))


@pytest.mark.parametrize("updates_per_batch", [1, 2])
def test_d_sees_inputs_blurred_by_the_scheduled_std_and_clean_ones_after_the_end(tmp_path, updates_per_batch):
    total, sigma_0, until = 12, 1.5, 0.5  # the noise reaches 0 at step 6
    model, data = build(instance_noise=sigma_0, instance_noise_until=until, pack=2, updates_per_batch=updates_per_batch)
    measure = MeasureDiscriminatorInputNoise()
    tiny_trainer(tmp_path, max_steps=total, limit_val_batches=0, callbacks=[measure]).fit(model, data)
    assert [step for step, _ in measure.rows] == list(range(0, total, updates_per_batch))
    assert set(measure.shapes) == {(10_000, 4)}  # packed 2 at a time, as D sees them
    for step, std in measure.rows:
        expected = sigma_0 * max(0.0, 1 - step / (until * total))
        assert std == pytest.approx(expected, abs=0.03), f"step {step}"  # 40,000 draws: std's error ~ 0.005 sigma
    assert dict(measure.rows)[6] == 0.0 and dict(measure.rows)[10] == 0.0  # exactly clean from the end step on


def test_a_resumed_run_keeps_the_noise_schedule_and_ends_bit_identical(tmp_path):
    """Cut at step 7 of 16, while the noise is still on (it ends at step 12), and resumed from the checkpoint."""
    torch.use_deterministic_algorithms(True)
    total, stop_at = 16, 7
    options = {"instance_noise": 1.0, "instance_noise_until": 0.75, "pack": 2}

    seed_everything(5, verbose=False)
    model, data = build(**options)
    uninterrupted = tiny_trainer(tmp_path / "a", max_steps=total, limit_val_batches=0)
    uninterrupted.fit(model, data)
    expected = final_state(model, uninterrupted)

    seed_everything(5, verbose=False)
    model, data = build(**options)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop_at, save_top_k=-1)
    tiny_trainer(
        tmp_path / "b",
        max_steps=total,
        limit_val_batches=0,
        callbacks=[checkpoint, StopAt(stop_at)],
        enable_checkpointing=True,
    ).fit(model, data)
    (path,) = list((tmp_path / "ckpt").glob("*.ckpt"))

    seed_everything(99, verbose=False)
    model, data = build(**options)
    resumed = tiny_trainer(tmp_path / "c", max_steps=total, limit_val_batches=0)
    resumed.fit(model, data, ckpt_path=path)
    got = final_state(model, resumed)
    different = [key for key in expected if not torch.equal(expected[key], got[key])]
    assert got.keys() == expected.keys() and not different, f"differ after resume: {different}"


def test_errors_name_the_argument(tmp_path):
    with pytest.raises(LitGansError, match="instance_noise is a std"):
        build(instance_noise=-0.1)
    with pytest.raises(LitGansError, match="instance_noise_until"):
        build(instance_noise=1.0, instance_noise_until=0.0)
    model, data = build(instance_noise=1.0)
    trainer = Trainer(
        max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False, default_root_dir=tmp_path
    )
    with pytest.raises(LitGansError, match="max_steps"):
        trainer.fit(model, data)


def test_dcgan_blurs_its_images_by_the_same_schedule(tmp_path):
    """DCGAN shares GAN's objective and D input: its D sees images plus noise of std sigma_0 (1 - t / t_end)."""
    model = DCGAN(data_shape=(1, 16, 16), z_dim=4, g_features=4, d_features=4, instance_noise=0.8, pack=2)
    data = Shapes(image_size=16, channels=1, num_train=32, num_val=8, batch_size=8)
    measure = MeasureDiscriminatorInputNoise(clean=torch.zeros(2_000, 1, 16, 16))
    tiny_trainer(tmp_path, max_steps=4, limit_val_batches=0, callbacks=[measure]).fit(model, data)
    assert measure.shapes == [(1_000, 2, 16, 16)] * 4  # packed along the channels
    # 512,000 draws a step: the std's error is ~ 0.001 sigma; the noise ends at step 2 of 4
    assert [(step, round(std, 2)) for step, std in measure.rows] == [(0, 0.8), (1, 0.4), (2, 0.0), (3, 0.0)]
