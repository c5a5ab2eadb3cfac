"""The lit-gans command line in a clone of the repository; installed, the same is the ``lit-gans`` command.

    python cli.py fit --model DCGAN --data MNIST --data.root data --data.download true
    python cli.py fit --config configs/dcgan_mnist.yaml
    python cli.py sample --ckpt_path RUN/checkpoints/last.ckpt --num_samples 64 --output samples.png

Everything lives in ``lit_gans/commands/main.py``; this file only runs it (and re-exports its names for scripts).
"""

from lit_gans.commands.main import *  # noqa: F403
from lit_gans.commands.main import main

if __name__ == "__main__":
    main()
