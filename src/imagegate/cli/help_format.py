"""Help that names an option's value instead of typing it: `--port PORT`, not `--port <int>`.

typer prints each parameter's Python type beside it (`<str>`, `<int>`, and `<bool>` even for flags
and `--help`), which tells a reader less than the parameter's name and help text. Commands and
groups made with `cls=NamedCommand` / `cls=NamedGroup` show instead, in the help and the usage
line:

- for an option that takes a value: its `metavar` when given (`FILE`, `USD`), else its long name
  in capitals (`--port PORT`), as argparse does;
- for a flag, nothing;
- for an argument, its name in capitals (`PROMPT`) and no type beside it.

typer makes the parameter objects itself, with no say in their class, so these commands and groups
re-class theirs (and their `--help` option) as the subclasses below, which change only how a
parameter is displayed.
"""

from __future__ import annotations

from typing import Any

from typer import Context
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class NamedOption(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        longest = max(self.opts, key=len).lstrip("-")
        return longest.replace("-", "_").upper()


class NamedArgument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "value").upper()

    def display_type_rich(self, ctx: Context) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Context) -> list[str]:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return [name if self.required else f"[{name}]"]


_NAMED: dict[type, type] = {TyperOption: NamedOption, TyperArgument: NamedArgument}


def _name_values(params: list[Any]) -> None:
    for param in params:
        named = _NAMED.get(type(param))
        if named is not None:
            param.__class__ = named


class _Named:
    """Re-classes a command's parameters and its `--help` option (made when first asked for)."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_values(self.params)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        _name_values([option])
        return option


class NamedCommand(_Named, TyperCommand):
    pass


class NamedGroup(_Named, TyperGroup):
    pass
