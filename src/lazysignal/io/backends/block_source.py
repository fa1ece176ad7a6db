"""Block sources live in the array layer now: :mod:`lazysignal.block_source`.

The back ends here attach them; these names stay importable from this module for them.
"""

from ...block_source import ScratchPool, attach, scratch, source_of

__all__ = ["attach", "source_of", "ScratchPool", "scratch"]
