"""Reading and writing files: the front door (``load``, ``save``) and the format modules."""

from .load import load
from .save import save

__all__ = ["load", "save"]
