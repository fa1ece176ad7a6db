"""X-ray emission lines (from xraydb), their windows, and line intensities from spectra.

Numbers and arrays only: the EDS signal classes (:mod:`lazysignal.signals.eds`) call these.

Examples
--------
>>> from lazysignal.xray import line_energy, integration_windows
>>> round(line_energy("Pt_La"), 2)
9.44
>>> integration_windows(["Fe_Ka"], 2.0).shape
(1, 2)
"""

from .intensity import SharedLineSums, combine_windows, line_intensities, result_dtype, window_sums
from .lines import (LINE_NAMES, check_element, element_lines, expand_only_lines, line_energy, line_weight,
                    split_line)
from .windows import (WindowPlan, background_windows, energy_to_index, fwhm_at_energy, integration_windows,
                      plan_windows)

__all__ = [
    "LINE_NAMES", "check_element", "element_lines", "expand_only_lines", "line_energy", "line_weight",
    "split_line", "WindowPlan", "background_windows", "energy_to_index", "fwhm_at_energy",
    "integration_windows", "plan_windows", "SharedLineSums", "combine_windows", "line_intensities",
    "result_dtype", "window_sums",
]
