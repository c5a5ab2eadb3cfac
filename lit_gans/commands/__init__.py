"""lit-gans' own commands beyond Lightning's (``fit``, ``validate``, ...): one module each; ``cli.py`` dispatches
``python cli.py NAME ...`` to ``COMMANDS[NAME](argv)``."""

from lit_gans.commands.classifier import classifier_command
from lit_gans.commands.inpaint import inpaint_command
from lit_gans.commands.latent import latent_command
from lit_gans.commands.sample import sample_command
from lit_gans.commands.text_encoder import text_encoder_command
from lit_gans.commands.translate import translate_command

COMMANDS = {
    "sample": sample_command,
    "classifier": classifier_command,
    "translate": translate_command,
    "text-encoder": text_encoder_command,
    "latent": latent_command,
    "inpaint": inpaint_command,
}
