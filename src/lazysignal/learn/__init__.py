"""Decomposition (machine learning) of signals larger than memory.

Array code, one module per algorithm family (none sees a signal): :mod:`.svd` (exact SVD/PCA
in two reads), :mod:`.nmf` (MiniBatchNMF streamed), :mod:`.orpca`, :mod:`.ornmf` (online
robust PCA/NMF), :mod:`.bss` (FastICA unmixing); :mod:`.passes` and :mod:`.treatments` read
the data and apply masks/centring/Poisson scaling; :mod:`.results` holds
:class:`~lazysignal.learn.results.LearningResults`; :mod:`.signal_methods` the signal methods.
"""

from .results import LearningResults

__all__ = ["LearningResults"]
