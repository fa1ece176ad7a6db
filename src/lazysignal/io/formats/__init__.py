"""One module per file format.

Every format module exposes the same small surface (see ``shared/FORMATS.md``):

``FORMAT``
    a :class:`~lazysignal.io.spec.FormatSpec` declaring name, extensions and abilities;
``read(path, *, lazy, chunks="auto", distributed=True, **format_options) -> list[SignalDict]``
    returns plain dictionaries (data, axes, metadata, original_metadata), never signals;
``write(path, signal_dict, **format_options)``
    only for formats whose ``FORMAT.writes`` is true.

Adding a format is one new module here and one line in :mod:`lazysignal.io.registry`.
"""
