"""StackGAN: Zhang et al. 2017, "StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative
Adversarial Networks" (arXiv:1612.03242; the authors' ``hanzhanggit/StackGAN-Pytorch``).

A frozen text encoder gives each caption an embedding ``e = phi(t)``; conditioning augmentation draws
``c = mu(e) + sigma(e) * eps`` (Gaussian, penalised by ``KL(N(mu, sigma^2) || N(0, I))``). Stage I draws a
low-resolution image from ``[z; c]``; Stage II, with Stage I frozen, re-draws it at a higher resolution from Stage
I's image and a fresh ``c``. D is matching-aware (Reed et al. 2016): it sees the image with ``mu``, and calls a real
image with a caption of another image fake:

    D: descend  L_real + (L_wrong + L_fake) / 2                         (Stage I)
                (L_real + L_real_u) / 2 + (L_fake + L_wrong + L_fake_u) / 3   (Stage II: + unconditional logit)
       L_real = -log D(x, mu(t)),  L_wrong = -log(1 - D(x, mu(t'))),  L_fake = -log(1 - D(G(z, c), mu(t)))
    G: descend  -log D(G(z, c), mu) [- log D_u(G(z, c))] + lambda_KL * KL

(``mu`` is detached in D's inputs; ``t'`` is the next item's caption in the batch, as the authors pair them.)
Adam 2e-4, (0.5, 0.999) for both, the learning rates halved every ``lr_decay_epochs``.

The text encoder (``lit_gans.text_encoder``) is trained in-project: ``--model.text_encoder FILE`` loads one from
``cli.py text-encoder``; without it StackGAN trains one on the training pairs before its first step
(``text_encoder_steps``). It is part of the checkpoint, and Stage II takes it, with G_I, from ``stage1_ckpt``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import default_collate

from lit_gans.base import GANModule
from lit_gans.errors import LitGansError
from lit_gans.losses import gaussian_kl_to_standard_normal
from lit_gans.networks.stackgan import StackGANDiscriminator, Stage1Generator, Stage2Generator
from lit_gans.networks.text import TextEncoderKind
from lit_gans.text import Vocabulary, tokenize
from lit_gans.text_encoder import TextImageMatcher, fit_matcher, load_text_encoder


def bce_real(logits: Tensor) -> Tensor:
    return F.softplus(-logits).mean()  # -log sigmoid(logits): judged real


def bce_fake(logits: Tensor) -> Tensor:
    return F.softplus(logits).mean()  # -log(1 - sigmoid(logits)): judged fake


class StackGAN(GANModule):
    """StackGAN, Stage I or Stage II (``stage``).

    Args:
        data_shape: ``(C, S, S)`` of the data, linked from the datamodule by the CLI (Stage II: ``S`` is Stage I's
            size times ``upsampling``).
        vocabulary: the captions' words (``datamodule.vocabulary``); None: read from the datamodule when fitting.
        stage: 1 (``[z; c]`` to a low-resolution image) or 2 (Stage I's image to a higher resolution).
        stage1_ckpt: Stage II: a Stage I checkpoint of ``cli.py fit``; its G (the EMA copy when it has one) and its
            text encoder are loaded frozen, and its ``z_dim`` is used.
        text_encoder: a file of ``cli.py text-encoder`` (Stage I); None: train one on the training pairs before the
            first step.
        text_encoder_kind: ``rnn`` (a bidirectional GRU over words) or ``bow`` (bag of words, the ablation), for
            the encoder trained when ``text_encoder`` is None.
        text_encoder_steps: batches of that training (2400, three epochs of ShapesCaptions at batch 64: 96 CPU
            seconds, and a caption retrieves an image that fits it 100% of the time, against 88% after one epoch;
            benchmarks/README.md, "Text to image").
        z_dim: size of ``z ~ N(0, I)`` (100, the paper's).
        condition_dim: size of ``c`` (the paper's ``N_g = 128``).
        g_features: G's width: Stage I has ``8 g_features`` channels at ``4 x 4``, halved by every up-block
            (paper: 128 for 64 px); Stage II encodes to ``4 g_features``.
        d_features: D's first conv channels, doubled by each stride-2 conv up to ``8 d_features`` (paper: 64).
        residual_blocks: Stage II's residual blocks (2 for COCO in the authors' configs, 4 for birds).
        upsampling: Stage II's resolution over Stage I's (4: 64 -> 256 in the paper; 2 for the CPU preset).
        conditioning_augmentation: ``c = mu + sigma eps`` with the KL term (the paper's); False: ``c = mu``, no KL
            (the ablation of the paper's section 5.2).
        kl_weight: ``lambda`` of the KL term (2.0, the authors' configs; the KL is averaged over ``c``'s entries).
        unconditional_logit: D also judges the image alone (the authors' Stage II D); None: Stage II only.
        lr_decay_epochs: halve both learning rates every this many epochs (an epoch visits every (image, caption)
            pair; 0: never).
        caption_bank_size: validation captions kept in the model (and its checkpoints) for ``sample`` without
            captions and for the grids.
        text_encoder_config: the text encoder's settings, filled in (from ``text_encoder``, Stage I's checkpoint or
            the defaults) and saved with the hyper-parameters so that a checkpoint rebuilds without the files; leave
            it out.
        stage1_config: G_I's settings (Stage II), filled in from ``stage1_ckpt`` and saved likewise; leave it out.
        **kwargs: go to ``GANModule`` (num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite, ...).
    """

    offline_preset: ClassVar[str] = "configs/stackgan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (3, 32, 32),
        vocabulary: list[str] | None = None,
        stage: Literal[1, 2] = 1,
        stage1_ckpt: str | None = None,
        text_encoder: str | None = None,
        text_encoder_kind: TextEncoderKind = "rnn",
        text_encoder_steps: int = 2400,
        z_dim: int = 100,
        condition_dim: int = 128,
        g_features: int = 32,
        d_features: int = 32,
        residual_blocks: int = 2,
        upsampling: int = 2,
        conditioning_augmentation: bool = True,
        kl_weight: float = 2.0,
        unconditional_logit: bool | None = None,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        lr_decay_epochs: int = 20,
        num_fixed_samples: int = 64,
        caption_bank_size: int = 256,
        text_encoder_config: dict[str, Any] | None = None,
        stage1_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if stage not in (1, 2):
            raise LitGansError(f"stage must be 1 or 2, got {stage}")
        if len(data_shape) != 3:
            raise LitGansError(f"StackGAN draws images (C, H, W); got data_shape {tuple(data_shape)}")
        stage1_state = matcher_state = None  # weights read from the files (a checkpoint brings its own)
        if stage == 2 and stage1_config is None:
            if stage1_ckpt is None:
                raise LitGansError("Stage II needs a Stage I checkpoint: pass --model.stage1_ckpt PATH")
            stage1_config, text_encoder_config, stage1_state, matcher_state = read_stage1(stage1_ckpt)
        if text_encoder_config is None and text_encoder is not None:
            loaded, _ = load_text_encoder(text_encoder)
            text_encoder_config, matcher_state = loaded.config, loaded.state_dict()
        if stage == 2:
            z_dim = stage1_config["z_dim"]
        super().__init__(
            z_dim=z_dim,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            num_fixed_samples=num_fixed_samples,
            **kwargs,
        )
        self.save_hyperparameters()
        self.stage, self.kl_weight, self.lr_decay_epochs = stage, kl_weight, lr_decay_epochs
        self.text_encoder_kind, self.text_encoder_steps = text_encoder_kind, text_encoder_steps
        self.augment = conditioning_augmentation
        self.register_buffer("text_encoder_ready", torch.tensor(False))
        self.register_buffer("caption_bank", torch.zeros(0, 1, dtype=torch.long))  # [M, L]
        self.matcher: TextImageMatcher | None = None  # the frozen text encoder (and its image half)
        if text_encoder_config is not None:
            self.build_matcher(text_encoder_config, vocabulary)
        elif vocabulary is not None:  # to be trained before the first step
            self.build_matcher(matcher_config(vocabulary, data_shape[0], text_encoder_kind), vocabulary)
        if matcher_state is not None:
            self.matcher.load_state_dict(matcher_state)
            self.text_encoder_ready.fill_(True)
        text_dim = (text_encoder_config or {}).get("embedding_dim", 128)
        channels, size = data_shape[0], data_shape[1]
        if stage == 1:
            self.generator = Stage1Generator(
                text_dim, z_dim, condition_dim, size, channels, g_features, conditioning_augmentation
            )
        else:
            stage1 = Stage1Generator(**stage1_config)
            if stage1_state is not None:
                stage1.load_state_dict(stage1_state)
            if stage1.image_size * upsampling != size:
                raise LitGansError(
                    f"Stage I draws {stage1.image_size} px and upsampling is {upsampling}, so Stage II draws "
                    f"{stage1.image_size * upsampling} px, but the data is {size} px: pass --data.image_size "
                    f"{stage1.image_size * upsampling} (or --model.upsampling {size // stage1.image_size})"
                )
            self.generator = Stage2Generator(
                stage1,
                text_dim,
                condition_dim,
                channels,
                g_features,
                residual_blocks,
                upsampling,
                conditioning_augmentation,
            )
        if unconditional_logit is None:
            unconditional_logit = stage == 2
        self.discriminator = StackGANDiscriminator(size, channels, d_features, condition_dim, unconditional_logit)

    # ----------------------------------------------------------------------------------------------------------
    # The text encoder: loaded, taken from Stage I, or trained before the first step
    # ----------------------------------------------------------------------------------------------------------
    def build_matcher(self, config: dict[str, Any], vocabulary: list[str] | None) -> TextImageMatcher:
        """The text encoder from its ``config``, its settings kept in the hyper-parameters."""
        if vocabulary is not None and Vocabulary(vocabulary).words != config["vocabulary"]:
            raise LitGansError(
                "the text encoder was trained on another vocabulary than the data's: train one on this data "
                "(cli.py text-encoder --data ...) or leave --model.text_encoder out"
            )
        self.matcher = TextImageMatcher(**config).requires_grad_(False).eval()
        self.hparams["text_encoder_config"] = self.matcher.config
        self.hparams["vocabulary"] = self.matcher.config["vocabulary"]
        return self.matcher

    def setup(self, stage: str) -> None:
        super().setup(stage)
        # the frozen text encoder (and Stage I) stay in eval mode on purpose: Lightning's warning would say otherwise
        warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode at the start of training")
        datamodule = getattr(self.trainer, "datamodule", None)
        vocabulary = getattr(datamodule, "vocabulary", None)
        if self.matcher is None:
            if vocabulary is None:
                raise LitGansError(
                    "StackGAN trains on captioned data: pass --data ShapesCaptions or CaptionFolder "
                    "(or vocabulary=datamodule.vocabulary when building it in Python)"
                )
            self.build_matcher(matcher_config(vocabulary, self.hparams.data_shape[0], self.text_encoder_kind), None)
        elif vocabulary is not None and Vocabulary(vocabulary).words != self.matcher.config["vocabulary"]:
            raise LitGansError(
                "the data's vocabulary differs from the one this StackGAN's text encoder was trained on: "
                "train on the same captioned data"
            )

    def on_fit_start(self) -> None:
        super().on_fit_start()
        datamodule = self.trainer.datamodule
        if len(self.caption_bank) == 0:
            self.caption_bank = bank_of_captions(datamodule.val_set, self.hparams.caption_bank_size).to(self.device)
        if not bool(self.text_encoder_ready):
            if self.trainer.is_global_zero:
                print(
                    f"StackGAN: training its text encoder ({self.text_encoder_kind}, {self.text_encoder_steps} "
                    "batches) on the training pairs; --model.text_encoder FILE reuses one (cli.py text-encoder)",
                    file=sys.stderr,
                )
            self.matcher.to(self.device)
            batches = shuffled_batches(datamodule.train_set, datamodule.batch_size, self.device)
            fit_matcher(self.matcher, batches, self.text_encoder_steps)
            if self.trainer.world_size > 1:  # every rank conditions on rank 0's encoder
                state = self.trainer.strategy.broadcast(self.matcher.state_dict(), src=0)
                self.matcher.load_state_dict(state)
            self.text_encoder_ready.fill_(True)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        bank = checkpoint.get("state_dict", {}).get("caption_bank")
        if bank is not None:  # its length is the data's caption length, known once fitting started
            self.caption_bank = torch.zeros_like(bank, device=self.caption_bank.device)
        super().on_load_checkpoint(checkpoint)

    @torch.no_grad()
    def embed(self, tokens: Tensor) -> Tensor:
        """``phi(t)``: the frozen encoder's caption embeddings ``[N, T]``."""
        return self.matcher.embed_text(tokens)

    # ----------------------------------------------------------------------------------------------------------
    # The game
    # ----------------------------------------------------------------------------------------------------------
    def d_step(self, batch: list[Tensor]) -> dict[str, Tensor]:
        real, tokens, D = batch[0], batch[1], self.discriminator
        fake, mu = self.generator(self.sample_latent(len(real)), self.embed(tokens))[:2]
        fake, mu = fake.detach(), mu.detach()
        h_real, h_fake = D.features(real), D.features(fake)
        real_loss = bce_real(D.conditional(h_real, mu))
        wrong_loss = bce_fake(D.conditional(h_real[:-1], mu[1:]))  # real images with the next item's caption
        fake_loss = bce_fake(D.conditional(h_fake, mu))
        if D.unconditional_head is None:
            loss = real_loss + (wrong_loss + fake_loss) / 2
        else:
            real_u, fake_u = bce_real(D.unconditional(h_real)), bce_fake(D.unconditional(h_fake))
            loss = (real_loss + real_u) / 2 + (fake_loss + wrong_loss + fake_u) / 3
        return {"loss": loss, "real": real_loss, "wrong": wrong_loss, "fake": fake_loss}

    def g_step(self, batch: list[Tensor]) -> dict[str, Tensor]:
        real, tokens, D = batch[0], batch[1], self.discriminator
        fake, mu, logvar = self.generator(self.sample_latent(len(real)), self.embed(tokens))[:3]
        h_fake = D.features(fake)
        adversarial = bce_real(D.conditional(h_fake, mu.detach()))
        if D.unconditional_head is not None:
            adversarial = adversarial + bce_real(D.unconditional(h_fake))
        kl = gaussian_kl_to_standard_normal(mu, logvar)
        loss = adversarial + self.kl_weight * kl if self.augment else adversarial
        return {"loss": loss, "adversarial": adversarial, "kl": kl}

    def generator_parameters(self):
        return (p for p in self.generator.parameters() if p.requires_grad)  # not the frozen Stage I

    def make_schedulers(self, opt_g, opt_d) -> list[Any]:
        if self.lr_decay_epochs <= 0:
            return []
        return [torch.optim.lr_scheduler.StepLR(opt, self.lr_decay_epochs, gamma=0.5) for opt in (opt_g, opt_d)]

    # ----------------------------------------------------------------------------------------------------------
    # Sampling: from captions (text or token ids), or from captions of the bank
    # ----------------------------------------------------------------------------------------------------------
    def generate(self, latent: Tensor, net: torch.nn.Module | None = None, **conditions: Tensor) -> Tensor:
        if "captions" not in conditions:
            raise LitGansError("StackGAN generates from (z, captions): pass captions=...")
        return (self.generator if net is None else net)(latent, self.embed(conditions["captions"]))[0]

    def draw_conditions(self, n: int, generator: torch.Generator | None = None, **given: Any) -> dict[str, Tensor]:
        """``captions=``: one caption for all (a string), one per sample (a list of strings), or token ids
        (``[L]`` or ``[n, L]``); none: drawn from the caption bank."""
        captions = given.pop("captions", None)
        if given:
            raise LitGansError(f"StackGAN takes captions=..., not {', '.join(sorted(given))}")
        if captions is None:
            if len(self.caption_bank) == 0:
                raise LitGansError("this StackGAN has no captions of its own yet (it was never fitted): pass captions=")
            pick = torch.randint(len(self.caption_bank), (n,), generator=generator)
            return {"captions": self.caption_bank[pick.to(self.caption_bank.device)]}
        if isinstance(captions, str):
            captions = [captions] * n
        if isinstance(captions, (list, tuple)) and captions and isinstance(captions[0], str):
            if len(captions) != n:
                raise LitGansError(f"captions must be one caption or {n} (one a sample), got {len(captions)}")
            vocabulary = self.matcher.vocabulary
            length = self.caption_bank.shape[1] if len(self.caption_bank) else 18
            unknown = sorted({word for caption in captions for word in tokenize(caption)} - set(vocabulary.index))
            if unknown:
                print(
                    f"warning: words the text encoder never saw (read as unknown): {', '.join(unknown)}",
                    file=sys.stderr,
                )
            return {"captions": vocabulary.encode(list(captions), length).to(self.device)}
        tokens = torch.as_tensor(captions, dtype=torch.long, device=self.device)
        tokens = tokens.expand(n, -1) if tokens.ndim == 1 else tokens
        if tokens.ndim != 2 or len(tokens) != n:
            raise LitGansError(f"caption token ids must be [L] or [{n}, L], got shape {list(tokens.shape)}")
        return {"captions": tokens}

    def grid_rows(self) -> tuple[int, int]:
        per_row = 8 if len(self.fixed_latent) >= 16 else len(self.fixed_latent)
        return max(1, len(self.fixed_latent) // per_row), per_row

    def fixed_conditions(self) -> dict[str, Tensor]:
        """A caption a row (the bank's first), a different ``z`` in every column."""
        rows, per_row = self.grid_rows()
        if len(self.caption_bank) == 0:
            raise LitGansError("this StackGAN has no captions yet: fit it on captioned data first")
        row = (torch.arange(len(self.fixed_latent), device=self.device) // per_row).clamp(max=rows - 1)
        return {"captions": self.caption_bank[row % len(self.caption_bank)]}

    def grid_captions(self) -> list[str]:
        rows, _ = self.grid_rows()
        return self.matcher.vocabulary.decode(self.caption_bank[torch.arange(rows) % len(self.caption_bank)])

    def sample_grids(self) -> dict[str, tuple[Tensor, int | None]]:
        rows, per_row = self.grid_rows()
        grids = {"samples": (self.sample_fixed()[: rows * per_row], per_row)}
        if self.stage == 2:
            with torch.no_grad():
                net = self.sampling_generator
                conditions = self.fixed_conditions()
                low = net.stage1(self.fixed_latent, self.embed(conditions["captions"]))[0]
            grids["stage1"] = (low[: rows * per_row], per_row)
        return grids


def matcher_config(vocabulary: list[str], channels: int, kind: TextEncoderKind) -> dict[str, Any]:
    return TextImageMatcher(vocabulary, kind, channels=channels).config


def read_stage1(path: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Tensor], dict[str, Tensor]]:
    """``(G_I's constructor arguments, the text encoder's config, G_I's weights, the text encoder's weights)`` from a
    Stage I checkpoint (G_I's EMA copy when it has one)."""
    from lit_gans.commands.checkpoints import read_checkpoint

    checkpoint = read_checkpoint(path)
    info = checkpoint.get("lit_gans", {})
    hparams = checkpoint.get("hyper_parameters", {})
    if not str(info.get("model", "")).endswith(".StackGAN") or hparams.get("stage") != 1:
        raise LitGansError(f"{path} is not a Stage I StackGAN checkpoint (--model.stage1_ckpt takes one)")
    state = checkpoint["state_dict"]
    prefix = "generator_ema." if any(k.startswith("generator_ema.") for k in state) else "generator."
    g_state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    text_config = hparams["text_encoder_config"]
    shape = hparams["data_shape"]
    config = {
        "text_dim": text_config["embedding_dim"],
        "z_dim": hparams["z_dim"],
        "condition_dim": hparams["condition_dim"],
        "image_size": shape[1],
        "channels": shape[0],
        "g_features": hparams["g_features"],
        "augment": hparams["conditioning_augmentation"],
    }
    matcher_state = {k[len("matcher.") :]: v for k, v in state.items() if k.startswith("matcher.")}
    return config, text_config, g_state, matcher_state


def bank_of_captions(dataset, size: int) -> Tensor:
    """The first ``size`` captions (token ids ``[M, L]``) of ``dataset``'s (image, caption) items."""
    tokens = getattr(dataset, "tokens", None)
    if tokens is not None:
        return tokens[:size].clone()
    return torch.stack([dataset[i][1] for i in range(min(size, len(dataset)))])


def shuffled_batches(dataset, batch_size: int, device: torch.device, seed: int = 0):
    """Endless shuffled batches ``(images, tokens, ...)`` of ``dataset`` (by ``get_batch`` when it has one)."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(dataset), generator=generator)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            indices = order[start : start + batch_size]
            if hasattr(dataset, "get_batch"):
                batch = dataset.get_batch(indices)
            else:
                batch = default_collate([dataset[int(i)] for i in indices])
            yield [t.to(device) for t in batch]
