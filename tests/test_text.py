"""Captions as ids, the caption and image encoders, their matching loss, retrieval, and the text-image metrics."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from datamodules import ShapesCaptions
from lit_gans import LitGansError
from lit_gans.losses import symmetric_contrastive_loss
from lit_gans.metrics.attributes import AttributeClassifier, caption_consistency, r_precision
from lit_gans.networks.text import BagOfWordsTextEncoder, RecurrentTextEncoder
from lit_gans.text import Vocabulary, tokenize
from lit_gans.text_encoder import (
    load_text_encoder,
    retrieval_accuracy,
    same_caption,
    save_text_encoder,
    train_text_encoder,
)


def test_vocabulary_round_trip_padding_unknown_words_and_truncation():
    vocabulary = Vocabulary.from_captions(["A red circle.", "a blue circle", "something red"])
    assert vocabulary.words[:2] == ["<pad>", "<unk>"] and vocabulary.words[2:5] == ["a", "circle", "red"]
    ids = vocabulary.encode(["a red circle", "a green circle", "a red circle a red circle"], max_length=4)
    assert ids[0].tolist() == [2, 4, 3, 0]  # padded with 0
    assert ids[1, 1] == 1  # "green" is unknown
    assert vocabulary.decode(ids) == ["a red circle", "a <unk> circle", "a red circle a"]  # cut after 4 words
    assert tokenize("Top-left, in the CENTRE!") == ["top", "left", "in", "the", "centre"]


@pytest.mark.parametrize("encoder", [RecurrentTextEncoder, BagOfWordsTextEncoder])
def test_caption_encoders_ignore_padding(encoder):
    torch.manual_seed(0)
    net = encoder(vocab_size=12, output_dim=8).eval()
    tokens = torch.tensor([[2, 5, 7, 3, 0, 0], [4, 4, 9, 0, 0, 0]])
    longer = torch.cat([tokens, torch.zeros(2, 7, dtype=torch.long)], dim=1)
    assert_close(net(tokens), net(longer), atol=1e-6, rtol=0)
    swapped = tokens[:, [2, 1, 0, 3, 4, 5]]
    if encoder is BagOfWordsTextEncoder:  # a bag: the order does not count
        assert_close(net(swapped), net(tokens), atol=1e-6, rtol=0)
    else:
        assert (net(swapped) - net(tokens)).abs().max() > 1e-3


def test_contrastive_loss_closed_forms():
    batch, temperature = 4, 0.1
    aligned = torch.eye(batch)  # t_i = v_i, orthogonal to the others: s_ii = 1 / T, s_ij = 0
    expected = math.log(1 + (batch - 1) * math.exp(-1 / temperature))
    assert_close(symmetric_contrastive_loss(aligned, aligned, temperature), torch.tensor(expected))
    constant = torch.ones(batch, 3)  # every pair alike: a uniform guess among the batch
    assert_close(symmetric_contrastive_loss(constant, constant, temperature), torch.tensor(math.log(batch)))
    # two captions that match both images: the target spreads over the pair, whose entropy log 2 is the least loss
    both = torch.tensor([[True, True], [True, True]])
    assert_close(
        symmetric_contrastive_loss(torch.ones(2, 3), torch.ones(2, 3), temperature, both), torch.tensor(math.log(2))
    )
    assert same_caption(torch.tensor([[2, 3, 0], [2, 3, 0], [2, 4, 0]])).tolist() == [
        [True, True, False],
        [True, True, False],
        [False, False, True],
    ]


class IdentityMatcher(torch.nn.Module):
    """Embeds caption ``k`` and image ``k`` alike (its id in the first token and the first pixel): a perfect
    encoder."""

    def embed_text(self, tokens):
        return torch.nn.functional.one_hot(tokens[:, 0], 300).float()

    def embed_image(self, images):
        return torch.nn.functional.one_hot(images[:, 0, 0, 0].long(), 300).float()


def test_retrieval_and_r_precision_of_a_perfect_and_a_reversed_encoder():
    ids = torch.arange(200)
    images = ids.float().view(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone()
    tokens = ids.view(-1, 1)
    assert r_precision(IdentityMatcher(), images, tokens, pool=100) == 1.0
    assert r_precision(IdentityMatcher(), images, tokens.roll(1), pool=100) == 0.0  # every caption another's
    dataset = [(images[i], tokens[i]) for i in range(200)]
    assert retrieval_accuracy(IdentityMatcher(), dataset, pool=100) == {"pool": 100, "top1": 1.0}


class FixedPredictions(AttributeClassifier):
    def __init__(self, predictions):
        super().__init__(1, {"shape": 3, "colour": 6})
        self.predictions = predictions

    def predict(self, images, batch=500):
        return self.predictions


def test_caption_consistency_counts_only_stated_attributes():
    truth = torch.tensor([[0, 1], [1, 2], [2, 3], [0, 4]])
    predicted = torch.tensor([[0, 1], [1, 5], [0, 3], [2, 0]])
    stated = torch.tensor([[True, True], [True, False], [False, True], [False, False]])
    scores = caption_consistency(FixedPredictions(predicted), torch.zeros(4, 1, 8, 8), truth, stated)
    assert scores["shape_accuracy"] == 1.0  # items 0 and 1 state the shape; both right
    assert scores["colour_accuracy"] == 1.0  # items 0 and 2; item 1's wrong colour is not stated
    assert scores["all_correct"] == 1.0  # item 3 states nothing: nothing wrong
    stated[3] = True
    assert (
        caption_consistency(FixedPredictions(predicted), torch.zeros(4, 1, 8, 8), truth, stated)["all_correct"] == 0.75
    )


def test_text_encoder_trains_saves_and_loads(tmp_path):
    torch.manual_seed(0)
    data = ShapesCaptions(image_size=16, num_train=600, num_val=200, captions_per_image=2, batch_size=32)
    matcher, info = train_text_encoder(data, "rnn", epochs=3, max_steps=100)
    # chance is 1/100 for top-1 and, for consistent retrieval, the share of images a caption fits (about 1/6
    # averaged over the templates); measured after 100 steps: 0.32 and 0.64
    assert info["steps"] == 100 and info["retrieval"]["top1"] > 0.15 and info["retrieval"]["consistent"] > 0.45
    path = save_text_encoder(matcher, info, tmp_path / "encoder.pt")
    loaded, loaded_info = load_text_encoder(path)
    tokens = data.val_set.tokens[:5]
    assert_close(loaded.embed_text(tokens), matcher.embed_text(tokens))
    assert loaded_info["retrieval"] == info["retrieval"] and loaded.config == matcher.config
    assert_close(loaded.embed_text(tokens).norm(dim=1), torch.full((5,), math.sqrt(128.0)))
    with pytest.raises(LitGansError, match="does not exist"):
        load_text_encoder(tmp_path / "none.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(LitGansError, match="not written by `cli.py text-encoder`"):
        load_text_encoder(tmp_path / "other.pt")
