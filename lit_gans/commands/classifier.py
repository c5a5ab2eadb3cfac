"""``cli.py classifier``: train the dataset classifier whose features ``ClassifierFeatures`` reads for FID / IS, or,
for captioned data with attribute labels (``ShapesCaptions``), the attribute classifier of the text-image
consistency metric (``lit_gans.metrics.attributes``)."""

from __future__ import annotations

from datamodules.base import GANDataModule
from lit_gans.commands.parse_errors import CommandParser
from lit_gans.commands.paths import ensure_writable_file


def classifier_command(argv: list[str]) -> None:
    from lit_gans.metrics.attributes import save_attribute_classifier, train_attribute_classifier
    from lit_gans.metrics.classifier import save_classifier, train_classifier

    parser = CommandParser(
        prog="cli.py classifier",
        description="Train a small classifier on a labelled image datamodule and save it for ClassifierFeatures "
        "(FID/KID features and IS class probabilities without any download); on ShapesCaptions, an attribute "
        "classifier (shape, colour, size, row, column) for the text-image consistency metric.",
    )
    parser.add_subclass_arguments(GANDataModule, "data", required=True, help="the datamodule, e.g. MNIST or Shapes")
    parser.add_argument("--output", type=str, required=True, help="where to write the classifier (.pt)")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training split")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (one-cycle schedule)")
    parser.add_argument("--width", type=int, default=32, help="channels of the first conv layer")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the initialisation and dropout (the data order follows --data.shuffle_seed)",
    )
    config = parser.parse_args(argv)
    ensure_writable_file(config.output)  # before building the data and training, not after
    datamodule = parser.instantiate(config).data
    if getattr(datamodule, "attribute_classes", None) is not None:
        model, info = train_attribute_classifier(datamodule, config.epochs, config.lr, config.width, config.seed)
        path = save_attribute_classifier(model, info, config.output)
        accuracy = ", ".join(f"{name} {value:.4f}" for name, value in info["val_accuracy"].items())
        print(f"wrote {path}: attribute classifier of {info['trained_on']}, validation accuracy {accuracy}")
        return
    model, info = train_classifier(datamodule, config.epochs, config.lr, config.width, config.seed)
    path = save_classifier(model, info, config.output)
    print(
        f"wrote {path}: {info['trained_on']}, {info['num_classes']} classes, "
        f"validation accuracy {info['val_accuracy']:.4f}"
    )
