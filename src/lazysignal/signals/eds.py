"""EDS spectra (energy-dispersive X-ray spectroscopy): elements, X-ray lines, line maps.

``EDSSpectrum`` (signal_type ``"EDS"``), ``EDSTEMSpectrum`` (``"EDS_TEM"``) and
``EDSSEMSpectrum`` (``"EDS_SEM"``) follow eXSpy's semantics: elements and lines kept in
``metadata.Sample``, lines chosen from elements as eXSpy chooses them, integration and
background windows from the detector resolution, and line maps titled as eXSpy titles them.
Line energies come from xraydb (:mod:`lazysignal.xray`). The maps of one
:meth:`EDSSpectrum.get_lines_intensity` call are computed in one pass over the data.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import XrayLineError
from ..signal_registry import register_signal_class
from ..xray import (SharedLineSums, background_windows, check_element, element_lines, expand_only_lines,
                    integration_windows, line_energy, line_intensities, plan_windows, split_line)
from .signal1d import Signal1D

__all__ = ["EDSSpectrum", "EDSTEMSpectrum", "EDSSEMSpectrum"]

#: eXSpy's defaults for a detector, set under Acquisition_instrument.<TEM|SEM>.
DETECTOR_DEFAULTS = {
    "Stage.tilt_alpha": 0.0,
    "Detector.EDS.elevation_angle": 35.0,
    "Detector.EDS.energy_resolution_MnKa": 130.0,
    "Detector.EDS.azimuth_angle": 0.0,
}
_PARAMETERS = {
    "beam_energy": "beam_energy", "live_time": "Detector.EDS.live_time",
    "real_time": "Detector.EDS.real_time", "tilt_stage": "Stage.tilt_alpha",
    "azimuth_angle": "Detector.EDS.azimuth_angle", "elevation_angle": "Detector.EDS.elevation_angle",
    "energy_resolution_MnKa": "Detector.EDS.energy_resolution_MnKa",
    "beam_current": "beam_current", "probe_area": "probe_area",
}


@register_signal_class
class EDSSpectrum(Signal1D):
    """An EDS spectrum (image), microscope not said: use ``set_signal_type("EDS_TEM")``.

    Metadata defaults (set when missing, as eXSpy sets them, under
    ``Acquisition_instrument.TEM`` or ``.SEM``): ``Detector.EDS.energy_resolution_MnKa``
    130 eV, ``elevation_angle`` 35, ``azimuth_angle`` 0, ``Stage.tilt_alpha`` 0.
    ``beam_energy`` (keV), ``live_time`` and ``real_time`` (s) have no default: without a
    beam energy, lines are chosen below the top of the energy axis.

    Examples
    --------
    >>> import numpy as np
    >>> s = EDSTEMSpectrum(np.zeros((2, 1000)))
    >>> e = s.axes_manager.signal_axes[0]
    >>> e.scale, e.offset, e.units = 0.01, -0.1, "keV"
    >>> s.add_elements(["Pt", "Fe"]); s.metadata.Sample.elements
    ['Fe', 'Pt']
    >>> s.get_lines_intensity()[0]
    <BaseSignal, title: X-ray line intensity of : Fe_La at 0.70 keV, dimensions: (2|)>
    """

    _signal_type = "EDS"
    # eXSpy's EDS default: decomposition() scales for Poisson noise unless told otherwise.
    _default_poisson_normalization = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._set_default_param()

    # -- metadata ------------------------------------------------------------------
    @property
    def _microscope(self) -> str | None:
        return {"EDS_TEM": "TEM", "EDS_SEM": "SEM"}.get(self.metadata.get_item("Signal.signal_type", ""))

    def _set_default_param(self) -> None:
        """Fill eXSpy's detector defaults that are missing (moving TEM <-> SEM parameters)."""
        micro = self._microscope
        if micro is None:
            return
        other = "SEM" if micro == "TEM" else "TEM"
        md = self.metadata
        if not md.has_item(f"Acquisition_instrument.{micro}") and md.has_item(f"Acquisition_instrument.{other}"):
            md.set_item(f"Acquisition_instrument.{micro}", md.get_item(f"Acquisition_instrument.{other}"))
            del md.Acquisition_instrument[other]
        # eXSpy 0.3.2's TEM set_microscope_parameters stores "beam_energy " (trailing space), so
        # its files carry that key; it is the beam energy (eXSpy reads it back as such).
        node = md.get_item(f"Acquisition_instrument.{micro}", None)
        if node is not None and "beam_energy " in node.keys() and "beam_energy" not in node.keys():
            node.beam_energy = node["beam_energy "]
            del node["beam_energy "]
        for path, value in DETECTOR_DEFAULTS.items():
            if not md.has_item(f"Acquisition_instrument.{micro}.{path}"):
                md.set_item(f"Acquisition_instrument.{micro}.{path}", value)

    def _instrument_item(self, path: str, default: Any = None) -> Any:
        self._set_default_param()
        for micro in ([self._microscope] if self._microscope else []) + ["TEM", "SEM"]:
            value = self.metadata.get_item(f"Acquisition_instrument.{micro}.{path}", None)
            if value is not None:
                return value
        return default

    def set_microscope_parameters(self, beam_energy: float | None = None, live_time: float | None = None,
                                  tilt_stage: float | None = None, azimuth_angle: float | None = None,
                                  elevation_angle: float | None = None,
                                  energy_resolution_MnKa: float | None = None,
                                  beam_current: float | None = None, probe_area: float | None = None,
                                  real_time: float | None = None) -> None:
        """Set acquisition parameters (keV, s, degrees, eV, nA, nm²); None leaves one as it is.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSTEMSpectrum(np.zeros(10))
        >>> s.set_microscope_parameters(beam_energy=200, live_time=2.5)
        >>> s.metadata.Acquisition_instrument.TEM.beam_energy
        200.0
        """
        micro = self._microscope
        if micro is None:
            raise XrayLineError("The microscope is not known for signal_type 'EDS'; call "
                                "set_signal_type('EDS_TEM') or set_signal_type('EDS_SEM') first.")
        given = dict(beam_energy=beam_energy, live_time=live_time, tilt_stage=tilt_stage,
                     azimuth_angle=azimuth_angle, elevation_angle=elevation_angle,
                     energy_resolution_MnKa=energy_resolution_MnKa, beam_current=beam_current,
                     probe_area=probe_area, real_time=real_time)
        self._set_default_param()
        for name, value in given.items():
            if value is not None:
                self.metadata.set_item(f"Acquisition_instrument.{micro}.{_PARAMETERS[name]}", float(value))

    # -- energy axis ---------------------------------------------------------------
    def _energy_axis(self) -> Any:
        axis = self.axes_manager.signal_axes[0]
        if axis.units not in ("eV", "keV"):
            raise XrayLineError(f"The signal axis {axis.name!r} is in {axis.units!r}; X-ray lines need an "
                                "energy axis in 'eV' or 'keV' (s.axes_manager.signal_axes[0].units = 'keV').")
        return axis

    def _keV(self) -> float:
        """Axis units per keV."""
        return 1000.0 if self._energy_axis().units == "eV" else 1.0

    def _beam_energy(self) -> float | None:
        """Beam energy in axis units, or None when the metadata have none."""
        value = self._instrument_item("beam_energy")
        return None if value is None else float(value) * self._keV()

    def _line_range(self) -> tuple[float, float]:
        axis = self._energy_axis()
        low, high = float(np.min(axis.axis)), float(np.max(axis.axis))
        beam = self._beam_energy()
        return low, high if beam is None else min(high, beam)

    def _lines_in_range(self, xray_lines: Iterable[str]) -> tuple[list[str], list[str]]:
        low, high = self._line_range()
        inside: list[str] = []
        outside: list[str] = []
        for line in xray_lines:
            (inside if low < line_energy(line) * self._keV() < high else outside).append(line)
        return inside, outside

    # -- elements and lines --------------------------------------------------------
    def add_elements(self, elements: Sequence[str]) -> None:
        """Add chemical elements to ``metadata.Sample.elements`` (kept sorted).

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSSEMSpectrum(np.zeros(10)); s.add_elements(("Fe", "C")); s.metadata.Sample.elements
        ['C', 'Fe']
        """
        if isinstance(elements, str) or not isinstance(elements, Iterable):
            raise XrayLineError(f"Give elements as a list, e.g. s.add_elements(['Fe']); got {elements!r}.")
        current = set(self.metadata.get_item("Sample.elements", []))
        current.update(check_element(str(e)) for e in elements)
        self.metadata.set_item("Sample.elements", sorted(current))

    def set_elements(self, elements: Sequence[str]) -> None:
        """Replace ``metadata.Sample.elements`` with ``elements``.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSSEMSpectrum(np.zeros(10)); s.set_elements(["Fe"]); s.set_elements(["Cu"])
        >>> s.metadata.Sample.elements
        ['Cu']
        """
        if self.metadata.has_item("Sample.elements"):
            del self.metadata.Sample.elements
        self.add_elements(elements)

    def _lines_from_elements(self, elements: Iterable[str], only_one: bool = False,
                             only_lines: Iterable[str] | None = ("a",)) -> list[str]:
        """The lines of ``elements`` inside the energy range, chosen as eXSpy chooses them.

        With ``only_one``, the first line in alphabetical order (Ka, La, Ma...) whose energy is
        below half the beam energy (the top of the axis without one), else the last.
        """
        only = expand_only_lines(only_lines)
        beam = self._beam_energy()
        if beam is None:
            beam = float(np.max(self._energy_axis().axis))
        lines: list[str] = []
        for element in elements:
            element = element.decode() if isinstance(element, bytes) else str(element)
            candidates = sorted(self._lines_in_range(element_lines(element, only))[0])
            if only_one and candidates:
                chosen = next((x for x in candidates if line_energy(x) * self._keV() < beam / 2), candidates[-1])
                candidates = [chosen]
            lines.extend(candidates)
        return sorted(lines)

    def add_lines(self, lines: Sequence[str] = (), only_one: bool = True,
                  only_lines: Iterable[str] | None = ("a",)) -> None:
        """Add X-ray lines to ``metadata.Sample.xray_lines``; elements without lines get theirs.

        Lines given are checked against xraydb (their elements are added); each element of
        ``metadata.Sample.elements`` that has no line yet gets the lines eXSpy would choose.

        Raises
        ------
        XrayLineError
            For an unknown element or line, or a line outside the energy axis.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSTEMSpectrum(np.zeros(1000))
        >>> e = s.axes_manager.signal_axes[0]; e.scale, e.units = 0.01, "keV"
        >>> s.set_microscope_parameters(beam_energy=200)
        >>> s.add_elements(["Fe", "Pt"]); s.add_lines(); s.metadata.Sample.xray_lines
        ['Fe_Ka', 'Pt_La']
        """
        if isinstance(lines, str):
            raise XrayLineError(f"Give lines as a list, e.g. s.add_lines(['Fe_Ka']); got {lines!r}.")
        xray_lines = set(self.metadata.get_item("Sample.xray_lines", []))
        for line in lines:
            split_line(line)
        outside = self._lines_in_range(lines)[1]
        if outside:
            low, high = self._line_range()
            raise XrayLineError(f"{', '.join(outside)} lie(s) outside the energy range ({low:g}, {high:g}) "
                                f"{self._energy_axis().units} of this spectrum (axis and beam energy).")
        xray_lines.update(lines)
        covered = {x.split("_")[0] for x in xray_lines}
        extra = set(self.metadata.get_item("Sample.elements", [])) - covered
        if extra:
            xray_lines.update(self._lines_from_elements(sorted(extra), only_one=only_one, only_lines=only_lines))
        self.add_elements(sorted({x.split("_")[0] for x in xray_lines}))
        self.metadata.set_item("Sample.xray_lines", sorted(xray_lines))

    def set_lines(self, lines: Sequence[str], only_one: bool = True,
                  only_lines: Iterable[str] | None = ("a",)) -> None:
        """Replace ``metadata.Sample.xray_lines``; see :meth:`add_lines`.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSTEMSpectrum(np.zeros(1000))
        >>> e = s.axes_manager.signal_axes[0]; e.scale, e.units = 0.01, "keV"
        >>> s.set_lines(["Fe_Kb"]); s.metadata.Sample.xray_lines
        ['Fe_Kb']
        """
        if self.metadata.has_item("Sample.xray_lines"):
            del self.metadata.Sample.xray_lines
        self.add_lines(lines, only_one=only_one, only_lines=only_lines)

    def _xray_lines(self, xray_lines: Iterable[str] | None = None, only_one: bool = True,
                    only_lines: Iterable[str] | None = ("a",)) -> list[str]:
        if xray_lines is None:
            if self.metadata.has_item("Sample.xray_lines"):
                xray_lines = list(self.metadata.Sample.xray_lines)
            elif self.metadata.has_item("Sample.elements"):
                xray_lines = self._lines_from_elements(self.metadata.Sample.elements, only_one=only_one,
                                                       only_lines=only_lines)
            else:
                raise XrayLineError("No X-ray lines: give xray_lines=['Fe_Ka', ...] or set elements with "
                                    "s.add_elements(['Fe', ...]).")
        elif isinstance(xray_lines, (str, dict)) or not isinstance(xray_lines, Iterable):
            raise XrayLineError(f"xray_lines must be a list of line names such as ['Fe_Ka']; got {xray_lines!r}.")
        xray_lines = [str(x) for x in xray_lines]
        for line in xray_lines:
            split_line(line)
        outside = self._lines_in_range(xray_lines)[1]
        if outside:
            low, high = self._line_range()
            raise XrayLineError(
                f"{', '.join(f'{x} ({line_energy(x) * self._keV():g})' for x in outside)} lie(s) outside the "
                f"energy range ({low:g}, {high:g}) {self._energy_axis().units} of this spectrum (energy axis, "
                "and below the beam energy); leave them out of xray_lines / metadata.Sample.xray_lines.")
        return xray_lines

    # -- windows ---------------------------------------------------------------------
    def _resolution(self) -> float:
        return float(self._instrument_item("Detector.EDS.energy_resolution_MnKa", 130.0))

    def estimate_integration_windows(self, windows_width: float = 2.0,
                                     xray_lines: Iterable[str] | None = None) -> np.ndarray:
        """Integration windows ``(n_lines, 2)`` in axis units, ``windows_width`` x FWHM wide.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSTEMSpectrum(np.zeros(1000))
        >>> e = s.axes_manager.signal_axes[0]; e.scale, e.units = 0.01, "keV"
        >>> s.estimate_integration_windows(2.0, ["Fe_Ka"]).round(3).tolist()
        [[6.27, 6.54]]
        """
        lines = self._xray_lines(xray_lines)
        return integration_windows(lines, windows_width, energy_resolution_mnka=self._resolution(),
                                   units=self._energy_axis().units)

    def estimate_background_windows(self, line_width: Sequence[float] = (2, 2), windows_width: float = 1,
                                    xray_lines: Iterable[str] | None = None) -> np.ndarray:
        """Background windows ``(n_lines, 4)`` (left window, right window) in axis units.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSTEMSpectrum(np.zeros(1000))
        >>> e = s.axes_manager.signal_axes[0]; e.scale, e.units = 0.01, "keV"
        >>> s.estimate_background_windows(xray_lines=["Fe_Ka"]).shape
        (1, 4)
        """
        lines = self._xray_lines(xray_lines)
        return background_windows(lines, line_width, windows_width, energy_resolution_mnka=self._resolution(),
                                  units=self._energy_axis().units)

    # -- line maps -------------------------------------------------------------------
    def get_lines_intensity(self, xray_lines: Iterable[str] | None = None, integration_windows: Any = 2.0,
                            background_windows: Any = None, plot_result: bool = False, only_one: bool = True,
                            only_lines: Iterable[str] | None = ("a",), **kwargs: Any) -> list:
        """One intensity map per X-ray line: the counts summed in a window around it.

        Parameters
        ----------
        xray_lines
            Line names (``["Fe_Ka", "Pt_La"]``); default: ``metadata.Sample.xray_lines``,
            else the lines of ``metadata.Sample.elements`` (see ``only_one``, ``only_lines``).
        integration_windows
            A number: windows that many FWHM wide; or ``(n_lines, 2)`` limits in axis units.
        background_windows
            None, or ``(n_lines, 4)`` limits (see :meth:`estimate_background_windows`): the
            background counted there, scaled to the window's channel count, is subtracted.
        plot_result
            Plot the maps (print the intensity for a single spectrum).
        only_one, only_lines
            How lines are chosen from elements, as in :meth:`add_lines`.
        kwargs
            Passed to the plot when ``plot_result`` is True.

        Returns
        -------
        list
            Signals (navigation axes only), lazy when this signal is lazy. The maps of one
            call share one pass over the data: computing one computes all (reading each chunk
            that holds a window once), and the others then hold their result.

        Examples
        --------
        >>> import numpy as np
        >>> s = EDSTEMSpectrum(np.ones((4, 6, 1000)))
        >>> e = s.axes_manager.signal_axes[0]; e.scale, e.offset, e.units = 0.01, -0.1, "keV"
        >>> fe, pt = s.as_lazy().get_lines_intensity(["Fe_Ka", "Pt_La"])
        >>> fe.metadata.General.title, fe.compute().data[0, 0]
        ('X-ray line intensity of : Fe_Ka at 6.41 keV', np.float64(27.0))
        >>> pt.lazy
        False
        """
        if kwargs and not plot_result:
            raise XrayLineError(f"Keyword arguments {sorted(kwargs)} are for the plot; pass plot_result=True "
                                "or leave them out.")
        lines = self._xray_lines(xray_lines, only_one=only_one, only_lines=only_lines)
        axis = self._energy_axis()
        if not axis.is_uniform:
            raise XrayLineError(f"get_lines_intensity needs a uniform energy axis; {axis.name!r} is not.")
        if np.ndim(integration_windows) == 0:
            windows = self.estimate_integration_windows(float(integration_windows), lines)
        else:
            windows = _check_windows(integration_windows, len(lines), 2, "integration_windows")
        background = None if background_windows is None else _check_windows(
            background_windows, len(lines), 4, "background_windows")
        plan = plan_windows(windows, background, offset=axis.offset, scale=axis.scale, size=axis.size,
                            names=lines)
        result = line_intensities(self.data, plan)
        array = result.array if isinstance(result, SharedLineSums) else result
        nav_axes = [a.copy() for a in self.axes_manager._axes if a.navigate]
        maps = []
        for i, line in enumerate(lines):
            m = self._new_like(array[..., i], axes=nav_axes and [a.copy() for a in nav_axes])
            m.metadata.set_item("General.title", f"X-ray line intensity of {self.metadata.get_item('General.title', '')}: "
                                                 f"{line} at {line_energy(line) * self._keV():.2f} {axis.units}")
            m.metadata.set_item("Sample.elements", [line.split("_")[0]])
            m.metadata.set_item("Sample.xray_lines", [line])
            maps.append(m)
        if isinstance(result, SharedLineSums):
            _share_results(maps, result)
        if plot_result:
            self._plot_line_maps(maps, lines, **kwargs)
        return maps

    def _plot_line_maps(self, maps: list, lines: list[str], **kwargs: Any) -> None:
        if maps and maps[0].axes_manager.navigation_size <= 1:
            if maps[0].lazy:
                from ..lazy import compute

                compute(*maps)
            units = self._energy_axis().units
            for m, line in zip(maps, lines):
                print(f"{line} at {line_energy(line) * self._keV():g} {units} : "
                      f"Intensity = {float(np.ravel(m.data)[0]):.2f}")
            return
        from .. import plot as _plot

        plot_images = getattr(_plot, "plot_images", None)
        if plot_images is None:
            raise XrayLineError("plot_result=True needs lazysignal.plot.plot_images, which this version lacks; "
                                "plot the returned maps yourself.")
        plot_images(maps, **kwargs)


def _check_windows(windows: Any, n_lines: int, width: int, name: str) -> np.ndarray:
    array = np.asarray(windows, dtype=float)
    if array.shape != (n_lines, width):
        raise XrayLineError(f"{name} needs one row of {width} energies per line: shape ({n_lines}, {width}); "
                            f"got shape {array.shape}.")
    return array


def _share_results(maps: list, shared: SharedLineSums) -> None:
    """When one map of the call is computed, give the others their (already computed) data."""
    originals = [m.data for m in maps]
    refs = [weakref.ref(m) for m in maps]

    state = {"filling": False}

    def fill() -> None:
        if state["filling"] or not shared.complete:
            return
        state["filling"] = True
        try:
            full = None
            for i, ref in enumerate(refs):
                m = ref()
                # Only maps still holding this call's lazy slice: one the user replaced is left alone.
                if m is not None and m.data is originals[i]:
                    full = shared.result() if full is None else full
                    m.data = np.ascontiguousarray(full[..., i])
        finally:
            state["filling"] = False

    for m in maps:
        m.events.data_changed.connect(fill, kwargs=[])


@register_signal_class
class EDSTEMSpectrum(EDSSpectrum):
    """An EDS spectrum (image) acquired in a TEM (signal_type ``"EDS_TEM"``).

    Examples
    --------
    >>> import numpy as np
    >>> EDSTEMSpectrum(np.zeros((3, 100))).metadata.Acquisition_instrument.TEM.Detector.EDS.energy_resolution_MnKa
    130.0
    """

    _signal_type = "EDS_TEM"


@register_signal_class
class EDSSEMSpectrum(EDSSpectrum):
    """An EDS spectrum (image) acquired in an SEM (signal_type ``"EDS_SEM"``).

    Examples
    --------
    >>> import numpy as np
    >>> EDSSEMSpectrum(np.zeros(100)).metadata.Signal.signal_type
    'EDS_SEM'
    """

    _signal_type = "EDS_SEM"
