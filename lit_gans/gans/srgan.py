"""SRGAN: Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network"
(arXiv:1609.04802), and its MSE-trained baseline, the SRResNet (``content="pixel", lambda_adv=0``).

G (the SRResNet, ``lit_gans.networks.srresnet``) maps a low-resolution image ``I_LR [N, C, h, w]`` to
``I_SR = G(I_LR) [N, C, r h, r w]``; D tells ``I_HR`` from ``I_SR``. The perceptual loss (eq. 3) is a content loss
plus ``10^-3`` times the adversarial loss:

    l_SR  = l_X + lambda_adv l_Gen,                     lambda_adv = 10^-3
    l_X   = l_MSE = mean (I_HR - G(I_LR))^2             (content="pixel", eq. 4: the SRResNet's)
          | l_phi = mean (phi(I_HR) - phi(G(I_LR)))^2   (content="features", eq. 5: phi a frozen network's maps)
    l_Gen = -log D(G(I_LR))                             (eq. 6, non-saturating)
    D: descend  -log D(I_HR) - log(1 - D(G(I_LR)))      (eq. 2)

The paper's ``phi`` is VGG19's map before its 5th max-pooling, "rescaled by 1/12.75". No ImageNet network is
available offline here, so ``phi`` is a lit-gans dataset classifier (``cli.py classifier``; ``SmallConvClassifier``,
three conv-BN-ReLU blocks): the pre-activation (BatchNorm output, before the ReLU) of block ``content_layer`` (3,
its deepest: ``[N, 4 width, H / 4, W / 4]``); BatchNorm leaves these maps at about unit scale, so ``content_rescale``
is 1 by default. It is frozen (eval mode, no gradients, outside every optimizer) and is part of the checkpoint:
``content_network FILE`` loads one; without a file SRGAN trains one on the labelled training images before its
first step (``content_network_epochs``: StackGAN does the same for its text encoder), so that
``python cli.py fit --model SRGAN`` needs no file outside git.

``lambda_adv = 0`` is the SRResNet: G never runs D, and D is not trained (its step has nothing to learn from, so it
is skipped to halve the cost; D stays in the model so that an SRResNet checkpoint initialises an SRGAN). As in the
paper, ``init_ckpt`` starts an SRGAN from a trained SRResNet's G ("to avoid undesired local optima").

Adam with ``beta1 = 0.9``, learning rate 1e-4 for ``n_epochs``, then 1e-5 for ``n_epochs_decay`` (the paper:
10^5 + 10^5 updates), batches of 16. Batches are ``(I_LR, I_HR, ...)`` (``datamodules.SuperResolution``).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.errors import LitGansError
from lit_gans.losses import (
    discriminator_accuracy,
    feature_content_loss,
    non_saturating_d_loss,
    non_saturating_g_loss,
    pixel_mse,
)
from lit_gans.metrics.classifier import SmallConvClassifier, dataset_labels, load_classifier, train_classifier
from lit_gans.networks.srresnet import SRGANDiscriminator, SRResNetGenerator
from lit_gans.translation import TranslationGAN

CLASSIFIER_COMMAND = "python cli.py classifier --data NAME ... --output FILE"


def classifier_config(info: dict[str, Any]) -> dict[str, Any]:
    """The constructor settings of a ``SmallConvClassifier`` from its saved info, as plain values."""
    keep = ("data_shape", "num_classes", "width", "feature_dim")
    return {key: (list(info[key]) if key == "data_shape" else int(info[key])) for key in keep}


class SRGAN(TranslationGAN):
    """SRGAN (SRResNet G, the paper's D, feature content loss + 1e-3 adversarial) or the SRResNet baseline.

    Args:
        data_shape: ``(C, S, S)`` of the high-resolution images, linked from the datamodule; ``S`` divisible by
            ``scale``.
        scale: the upscaling factor ``r``, a power of two (4 in the paper); must equal the data's ``--data.scale``.
        features: G's residual trunk width (64 in the paper).
        blocks: G's residual blocks ``B`` (16 in the paper).
        upsample_features: maps of G's upsampling convolutions before PixelShuffle (256 in the paper); None:
            ``4 * features``.
        d_features: D's first width (64 in the paper), doubled up to ``8 * d_features``.
        d_dense_features: D's dense layer (1024 in the paper).
        content: ``features`` (``l_phi``, SRGAN's; see the module docstring) or ``pixel`` (``l_MSE``, the SRResNet's).
        content_network: a classifier file of ``cli.py classifier`` trained on images of the data's shape, whose
            features are ``phi``; None: train one on the data's labelled training images before the first step.
        content_layer: which block's pre-activation ``phi`` is: 1, 2 or 3 (the deepest, at 1/4 of the size).
        content_rescale: the factor on ``phi``'s maps (the paper's 1/12.75 for VGG; 1 for the classifier's
            BatchNorm-scaled maps).
        content_network_epochs: epochs of the classifier trained when ``content_network`` is None.
        lambda_adv: weight of the adversarial loss ``l_Gen`` (1e-3); 0: the SRResNet (D neither run nor trained).
        init_ckpt: a checkpoint of an SRGAN (e.g. the SRResNet, ``lambda_adv 0``) whose G (its EMA copy when it
            has one) starts this run's G, as the paper initialises SRGAN; read when a fresh fit starts.
        n_epochs: epochs at the initial learning rates.
        n_epochs_decay: epochs at a tenth of them after the first ``n_epochs`` (the paper: 10^5 updates at 1e-4,
            then 10^5 at 1e-5); training stops at their end.
        lr_g: G's Adam learning rate (1e-4).
        lr_d: D's Adam learning rate (1e-4).
        betas_g: G's Adam ``(beta1, beta2)`` ((0.9, 0.999) in the paper).
        betas_d: D's Adam ``(beta1, beta2)`` ((0.9, 0.999)).
        content_network_config: the content network's settings, filled in (from the file or the data) and saved
            with the hyper-parameters so that a checkpoint rebuilds without the file; leave it out.
        **kwargs: go to ``GANModule``: ema_decay, nonfinite, compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/srgan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 96, 96),
        scale: int = 4,
        features: int = 64,
        blocks: int = 16,
        upsample_features: int | None = None,
        d_features: int = 64,
        d_dense_features: int = 1024,
        content: Literal["features", "pixel"] = "features",
        content_network: str | None = None,
        content_layer: Literal[1, 2, 3] = 3,
        content_rescale: float = 1.0,
        content_network_epochs: int = 1,
        lambda_adv: float = 1e-3,
        init_ckpt: str | None = None,
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        betas_g: tuple[float, float] = (0.9, 0.999),
        betas_d: tuple[float, float] = (0.9, 0.999),
        content_network_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            n_epochs=n_epochs,
            n_epochs_decay=n_epochs_decay,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            **kwargs,
        )
        self.save_hyperparameters()
        if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
            raise LitGansError(f"SRGAN needs square images (C, S, S), got data_shape={tuple(data_shape)}")
        if data_shape[1] % scale:
            raise LitGansError(f"the images' size {data_shape[1]} does not divide by scale {scale}")
        if content not in ("features", "pixel"):
            raise LitGansError(f"content must be 'features' or 'pixel', got {content!r}")
        if content_layer not in (1, 2, 3):
            raise LitGansError(f"content_layer must be 1, 2 or 3 (a block of the classifier), got {content_layer}")
        if lambda_adv < 0:
            raise LitGansError(f"lambda_adv must be >= 0, got {lambda_adv}")
        channels, size = data_shape[0], data_shape[1]
        self.scale, self.content, self.content_layer = scale, content, content_layer
        self.content_rescale, self.content_network_epochs = content_rescale, content_network_epochs
        self.lambda_adv, self.init_ckpt = lambda_adv, init_ckpt
        self.generator = SRResNetGenerator(channels, scale, features, blocks, upsample_features)
        self.discriminator = SRGANDiscriminator(channels, size, d_features, d_dense_features)

        # phi: loaded from a file, rebuilt from a checkpoint's config, or built (then trained) once the data is known
        self.register_buffer("content_network_ready", torch.tensor(False))
        self.content_network: SmallConvClassifier | None = None
        state = None
        if content == "features" and content_network_config is None and content_network is not None:
            loaded, info = load_classifier(content_network)
            content_network_config, state = classifier_config(info), loaded.state_dict()
        if content == "features" and content_network_config is not None:
            self.build_content_network(content_network_config)
            if state is not None:
                self.content_network.load_state_dict(state)
                self.content_network_ready.fill_(True)

    # ----------------------------------------------------------------------------------------------------------
    # The content network phi: frozen, in eval mode, never in an optimizer
    # ----------------------------------------------------------------------------------------------------------
    def build_content_network(self, config: dict[str, Any]) -> SmallConvClassifier:
        expected = list(self.hparams.data_shape)
        if list(config["data_shape"]) != expected:
            raise LitGansError(
                f"the content network was trained on {tuple(config['data_shape'])} images but the data is "
                f"{tuple(expected)}: train one on this data ({CLASSIFIER_COMMAND}) or leave --model.content_network out"
            )
        network = SmallConvClassifier(
            config["data_shape"][0], config["num_classes"], config["width"], config["feature_dim"]
        )
        self.content_network = network.requires_grad_(False).eval()
        self.hparams["content_network_config"] = dict(config)
        return self.content_network

    def train(self, mode: bool = True) -> SRGAN:
        super().train(mode)
        if self.content_network is not None:
            self.content_network.eval()  # phi's BatchNorm keeps its running statistics, always
        return self

    def phi(self, images: Tensor) -> Tensor:
        """The pre-activation of block ``content_layer`` of the content network: ``[N, C, S, S] ->
        [N, 2^(l-1) width, S / 2^(l-1), S / 2^(l-1)]`` (``body`` is [conv, BN, ReLU, pool] x 2, conv, BN, ReLU, ...:
        block ``l``'s BatchNorm output is layer ``4 l - 3``)."""
        return self.content_network.body[: 4 * self.content_layer - 2](images)

    def content_loss(self, sr: Tensor, hr: Tensor) -> Tensor:
        """``l_X`` of ``I_SR`` against ``I_HR`` (``[N, C, S, S]`` each)."""
        if self.content == "pixel":
            return pixel_mse(sr, hr)
        with torch.no_grad():
            target = self.phi(hr)
        return feature_content_loss(self.phi(sr), target, self.content_rescale)

    # ----------------------------------------------------------------------------------------------------------
    # The algorithm
    # ----------------------------------------------------------------------------------------------------------
    def d_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        if self.lambda_adv == 0:  # the SRResNet: nothing for D to learn from, no update (its gradients stay None)
            return {"loss": torch.zeros((), device=self.device, requires_grad=True)}
        lr, hr = self.pair(batch)
        real, fake = self.discriminator(hr), self.discriminator(self.generator(lr).detach())
        out = {"loss": non_saturating_d_loss(real, fake)}
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real, fake)
        return out

    def g_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        lr, hr = self.pair(batch)
        sr = self.generator(lr)  # I_SR [N, C, r h, r w]
        content = self.content_loss(sr, hr)
        if self.lambda_adv == 0:
            return {"loss": content, "content": content}
        adversarial = non_saturating_g_loss(self.discriminator(sr))  # -log D(G(I_LR))
        return {"loss": content + self.lambda_adv * adversarial, "content": content, "adversarial": adversarial}

    def pair(self, batch: tuple[Tensor, ...]) -> tuple[Tensor, Tensor]:
        lr, hr = batch[0], batch[1]
        if lr.shape[-1] * self.scale != hr.shape[-1] or lr.shape[-2] * self.scale != hr.shape[-2]:
            raise LitGansError(
                f"SRGAN upscales by {self.scale} but the batch pairs {tuple(lr.shape[-2:])} inputs with "
                f"{tuple(hr.shape[-2:])} targets: pass the same --data.scale and --model.scale"
            )
        return lr, hr

    def make_schedulers(self, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> list[Any]:
        def factor(epoch: int) -> float:  # 1 for n_epochs, then 0.1 (the paper's 1e-4, then 1e-5)
            return 1.0 if epoch + 1 <= self.n_epochs else 0.1

        return [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in (opt_g, opt_d)]

    # ----------------------------------------------------------------------------------------------------------
    # Fitting: check the data, train or load phi, start from init_ckpt
    # ----------------------------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        super().setup(stage)
        # phi stays in eval mode on purpose: Lightning's warning would say otherwise
        warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode at the start of training")
        datamodule = getattr(self.trainer, "datamodule", None)
        data_scale = getattr(datamodule, "scale", None)
        if data_scale is not None and data_scale != self.scale:
            raise LitGansError(
                f"the data is downsampled by --data.scale {data_scale} but --model.scale is {self.scale}"
            )
        if self.content == "features" and self.content_network is None:
            source = self.labelled_source()
            source.setup("fit")
            num_classes = int(dataset_labels(source.train_set).max()) + 1
            channels, size, _ = self.hparams.data_shape
            self.build_content_network(
                {"data_shape": [channels, size, size], "num_classes": num_classes, "width": 32, "feature_dim": 128}
            ).to(self.device)

    def labelled_source(self):
        """The datamodule of labelled high-resolution images the content network trains on."""
        source = getattr(getattr(self.trainer, "datamodule", None), "images", None)
        if source is None:
            raise LitGansError(
                "SRGAN's feature content loss needs a content network: pass --model.content_network FILE (a "
                f"classifier from `{CLASSIFIER_COMMAND}`), train on --data SuperResolution (SRGAN then trains one on "
                "its images' labels), or use --model.content pixel"
            )
        return source

    def on_fit_start(self) -> None:
        super().on_fit_start()
        fresh = self.d_steps == 0 and self.g_steps == 0  # not resumed from a checkpoint of this run
        if self.init_ckpt is not None and fresh:
            self.load_initial_generator(self.init_ckpt)
        if self.content == "features" and not bool(self.content_network_ready):
            self.train_content_network()

    def train_content_network(self) -> None:
        source = self.labelled_source()
        if self.trainer.is_global_zero:
            print(
                f"SRGAN: training its content network (a classifier of {type(source).__name__}, "
                f"{self.content_network_epochs} epoch(s)); --model.content_network FILE reuses one "
                f"({CLASSIFIER_COMMAND})",
                file=sys.stderr,
            )
        with torch.random.fork_rng(devices=[]):  # the GAN's own random stream goes on as without it
            try:
                trained, info = train_classifier(source, epochs=self.content_network_epochs)
            except (LitGansError, IndexError, TypeError, ValueError) as error:
                raise LitGansError(
                    f"SRGAN could not train its content network on {type(source).__name__} ({error}): pass "
                    f"--model.content_network FILE ({CLASSIFIER_COMMAND}) or --model.content pixel"
                ) from None
        self.content_network.load_state_dict(trained.state_dict())
        self.content_network.to(self.device)
        if self.trainer.world_size > 1:  # every rank compares features of rank 0's network
            state = self.trainer.strategy.broadcast(self.content_network.state_dict(), src=0)
            self.content_network.load_state_dict(state)
        self.content_network_ready.fill_(True)

    @torch.no_grad()
    def load_initial_generator(self, path: str) -> None:
        """G (and its EMA copy) from the G of the SRGAN checkpoint ``path`` (its EMA copy when it has one)."""
        from lit_gans.commands.checkpoints import read_checkpoint

        checkpoint = read_checkpoint(path)
        if not str(checkpoint.get("lit_gans", {}).get("model", "")).endswith(".SRGAN"):
            raise LitGansError(f"{path} is not an SRGAN checkpoint (--model.init_ckpt takes an SRResNet's or SRGAN's)")
        state = checkpoint["state_dict"]
        prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in state) else "generator."
        g_state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        try:
            self.generator.load_state_dict(g_state)
        except RuntimeError:
            saved = checkpoint.get("hyper_parameters", {})
            settings = ("data_shape", "scale", "features", "blocks", "upsample_features")
            raise LitGansError(
                f"{path}'s G does not fit this SRGAN's: build it with the checkpoint's "
                + ", ".join(f"{k}={saved.get(k)}" for k in settings)
            ) from None
        if hasattr(self, "generator_ema"):
            self.generator_ema.load_state_dict(self.generator.state_dict())

    # ----------------------------------------------------------------------------------------------------------
    # Translation: LR in, SR out
    # ----------------------------------------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, S / r, S / r)``: the low-resolution input G takes (``cli.py translate`` resizes images to it)."""
        channels, size, _ = self.hparams.data_shape
        return (channels, size // self.scale, size // self.scale)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        raise LitGansError(
            "SRGAN super-resolves low-resolution images and draws no noise: run `python cli.py translate --ckpt_path "
            "CKPT --input IMAGES --output DIR`, or translate(lr) with lr [N, C, S / r, S / r] in Python"
        )

    def translation_panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """``I_LR`` (nearest-upsampled) | ``I_SR`` | ``I_HR``, each ``[N, C, S, S]``."""
        return [F.interpolate(x, scale_factor=self.scale, mode="nearest"), self.translate(x), y]
