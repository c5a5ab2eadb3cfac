"""jsonargparse's parse errors (a usage dump, then nested "Parser key ... Does not validate against any of the Union
subtypes ..." blocks) as one line that names the mistake and the nearest right spelling."""

from __future__ import annotations

import re
from typing import NoReturn

from jsonargparse import ArgumentParser
from lightning.pytorch.cli import LightningArgumentParser

from lit_gans.commands.registry import did_you_mean, offered_datamodules, offered_models, program
from lit_gans.errors import LitGansError

OPTIMIZER_HINT = (
    "the optimizers are model arguments (--model.lr_g, --model.lr_d, --model.betas_g, --model.betas_d; "
    "see --model.help NAME)"
)


def class_options(class_path: str) -> list[str]:
    """The constructor options of the class at ``class_path`` as jsonargparse sees them (``**kwargs`` forwarded to
    the bases included)."""
    short = class_path.rsplit(".", 1)[-1]
    cls = {**offered_models(), **offered_datamodules()}.get(short)
    if cls is None:
        return []
    parser = ArgumentParser()
    parser.add_class_arguments(cls, "x")
    return [action.dest[2:] for action in parser._actions if action.dest.startswith("x.")]


def one_line(message: str, parser: ArgumentParser | None = None) -> str:
    """The user's mistake in ``message`` (a jsonargparse error) as one line with a suggestion where one exists."""
    optimizer = re.search(r'Parser key "(optimizer|lr_scheduler)"', message)
    if optimizer:
        return f"--{optimizer.group(1)} is not a lit-gans option: {OPTIMIZER_HINT}"

    unknown_class = re.search(r'Parser key "(model|data)":\s*- Expected a path but (\S+) either', message)
    if unknown_class:
        key, name = unknown_class.groups()
        choices = offered_models() if key == "model" else offered_datamodules()
        what = "model" if key == "model" else "datamodule"
        return f"unknown {what} {name!r}{did_you_mean(name, choices)} ({program()} --help lists them)"

    unknown_option = re.search(
        r'Parser key "(model|data)":.*?class_path \'([\w.]+)\':\s*Option \'([\w.]+)\' is not accepted', message, re.S
    )
    if unknown_option:
        key, class_path, option = unknown_option.groups()
        short = class_path.rsplit(".", 1)[-1]
        hint = did_you_mean(option, class_options(class_path), prefix=f"--{key}.")
        return f"{short} has no option --{key}.{option}{hint} (all of them: {program()} fit --{key}.help {short})"

    wrong_type = re.search(
        r'Parser key "(model|data)":.*?class_path \'([\w.]+)\':\s*Parser key "([\w.]+)":\s*(.+?)(?:\n|$)',
        message,
        re.S,
    )
    if wrong_type:
        key, class_path, option, problem = wrong_type.groups()
        expected = re.match(r"Expected a <class '(\w+)'>\. Got value: (.*)", problem.strip())
        if expected:
            kind = expected.group(1)
            return f"--{key}.{option} takes {'an' if kind[0] in 'aeiou' else 'a'} {kind}, got {expected.group(2)!r}"
        return f"--{key}.{option}: {problem.strip()}"

    plain_type = re.search(r'Parser key "([\w.]+)":\s*Expected a <class \'(\w+)\'>\. Got value: (.*)', message)
    if plain_type:
        option, kind, value = plain_type.groups()
        return f"--{option} takes {'an' if kind[0] in 'aeiou' else 'a'} {kind}, got {value.strip()!r}"

    unrecognized = re.search(r"unrecognized arguments: (\S+)", message)
    if unrecognized:
        option = unrecognized.group(1).split("=", 1)[0]
        if option.startswith(("--optimizer", "--lr_scheduler")):
            return f"{option} is not a lit-gans option: {OPTIMIZER_HINT}"
        known = [s for s in parser._option_string_actions if s.startswith("--")] if parser is not None else []
        known += [f"--model.{o}" for o in class_options("DCGAN")] + [f"--data.{o}" for o in class_options("Shapes")]
        known += [f"--{p}.help" for p in ("model", "data")]
        return f"unknown option {option}{did_you_mean(option.lstrip('-'), [k.lstrip('-') for k in known], '--')}"

    invalid_choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*?)\)", message)
    if invalid_choice:
        given, choices = invalid_choice.groups()
        names = re.findall(r"'?([\w-]+)'?", choices)
        return (
            f"unknown command {given!r}{did_you_mean(given, names)} (commands: {', '.join(names)}, sample, translate)"
        )

    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    detail = [line for line in lines if not line.startswith(("Subtypes:", "Given value type", "- Expected a <class"))]
    return " ".join(detail)[:400]


class OneLineErrors:
    """A jsonargparse parser whose errors are ``LitGansError``s of one line (``cli.main`` prints them, exit 2)."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:  # a parser jsonargparse tries internally: it expects its own exception
            super().error(message, ex)
        raise LitGansError(one_line(message, self)) from None


class LitGansParser(OneLineErrors, LightningArgumentParser):
    """LightningCLI's parser with one-line errors."""


class CommandParser(OneLineErrors, ArgumentParser):
    """The parser of lit-gans' own commands (``sample``, ``classifier``, ``translate``) with one-line errors; an
    option is spelt in full (no prefixes)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
