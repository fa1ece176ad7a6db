"""The one check that a method's keyword options are all understood (none silently ignored).

Signal methods that take ``**kwargs`` for HyperSpy compatibility, and the readers and writers
of :mod:`lazysignal.io` (through ``io.spec.check_options``), pass them here with the names
they honour; anything else raises :class:`~lazysignal.errors.UnsupportedOptionError` (a
``TypeError``) naming the option and listing the accepted ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import UnsupportedOptionError

__all__ = ["check_method_options"]


def check_method_options(options: Mapping[str, Any], accepted: Iterable[str], *, where: str,
                         hint: str = "") -> None:
    """Raise :class:`~lazysignal.errors.UnsupportedOptionError` for options not in ``accepted``.

    Parameters
    ----------
    options
        The keyword options given.
    accepted
        The names the method honours.
    where
        The method, for the message (e.g. ``"fft"``).
    hint
        Appended to the message (what to do instead).

    Examples
    --------
    >>> check_method_options({"norm": "ortho"}, ["norm"], where="fft")
    >>> check_method_options({"s": (4,)}, ["norm"], where="fft")
    Traceback (most recent call last):
    ...
    lazysignal.errors.UnsupportedOptionError: fft got unknown options: 's'. It accepts: norm.
    """
    accepted = sorted(set(accepted))
    unknown = [k for k in options if k not in accepted]  # in the order given
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        listing = ", ".join(accepted) if accepted else "no options"
        raise UnsupportedOptionError(f"{where} got unknown options: {names}. It accepts: {listing}."
                                     + (f" {hint}" if hint else ""))
