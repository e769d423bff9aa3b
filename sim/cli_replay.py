"""Placeholder: sub-commands are added by the module owner."""


def register(subparsers) -> None:  # noqa: D103
    return None
