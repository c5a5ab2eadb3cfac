import numpy as np
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from datamodules import Shapes, Toy
from lit_gans import DCGAN, GAN
from lit_gans.callbacks import LogSamples, image_grid, toy_plot
from tests.helpers import tiny_trainer


def test_image_grid_maps_minus_one_to_black_and_one_to_white():
    images = torch.stack([-torch.ones(3, 4, 4), torch.ones(3, 4, 4)])
    grid = image_grid(images, nrow=2)
    assert grid.shape == (4 + 4, 2 * 4 + 6, 3) and grid.dtype == np.uint8  # padding 2 around each tile
    assert (grid[2:6, 2:6] == 0).all() and (grid[2:6, 8:12] == 255).all()


def test_toy_plot_draws_1d_and_2d():
    assert toy_plot(torch.randn(100, 2), torch.randn(50, 2)).shape[2] == 3
    assert toy_plot(torch.randn(100, 1), torch.randn(50, 1)).ndim == 3


def test_a_2d_plot_keeps_its_legend_below_the_axes_where_it_hides_no_mode():
    """The grid's 25 modes reach the axes' corners; a legend inside them covered the top-right ones. The legend's
    orange "generated" marker must be in the bottom tenth of the picture, under the x tick labels."""
    corners = torch.tensor([[-4.0, -4.0], [-4.0, 4.0], [4.0, -4.0], [4.0, 4.0]]).repeat_interleave(50, dim=0)
    pixels = toy_plot(corners).astype(int)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    orange = (red > 200) & (green > 100) & (green < 220) & (blue < 170)  # tab:orange at alpha 0.5 on white
    bottom = int(0.9 * len(pixels))
    assert orange[bottom:].any()  # the legend's marker
    assert orange[:bottom].any()  # the points themselves


def test_grid_goes_to_tensorboard_and_beside_the_run(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="run")
    callback = LogSamples()
    model = DCGAN(data_shape=(1, 28, 28), z_dim=8, g_features=4, d_features=4, num_fixed_samples=16)
    data = Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16)
    tiny_trainer(tmp_path, max_steps=4, logger=logger, callbacks=[callback]).fit(model, data)
    png = tmp_path / "run" / "version_0" / "samples" / "samples_step0000004.png"
    assert callback.last_path == png
    assert Image.open(png).size == (4 * 30 + 2, 4 * 30 + 2)  # 16 samples: 4 x 4 tiles of 28 + 2 padding
    events = EventAccumulator(str(tmp_path / "run" / "version_0"), size_guidance={"images": 0}).Reload()
    assert events.Tags()["images"] == ["samples/samples"]
    assert [image.step for image in events.Images("samples/samples")] == [4, 4]  # validation, then end of training


def test_toy_plot_beside_a_csv_run(tmp_path):
    callback = LogSamples(num_points=300)
    model = GAN(data_shape=(2,), z_dim=4, g_hidden=(8,), d_hidden=(8,))
    data = Toy("ring", num_train=64, num_val=64, batch_size=32)
    trainer = tiny_trainer(tmp_path, max_steps=2, logger=CSVLogger(tmp_path, name="csv"), callbacks=[callback])
    trainer.fit(model, data)
    assert callback.last_path == tmp_path / "csv" / "version_0" / "samples" / "samples_plot_step0000002.png"
    assert callback.last_path.is_file()
