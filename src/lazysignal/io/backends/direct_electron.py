"""Direct Electron movies: the ``*_info.txt`` companion that gives an MRC movie its scan.

A DE camera saves a 4D-STEM scan as ``YYYYMMDD_ACQ[_suffix]_movie.mrc``, a stack of NZ frames,
and writes the scan's shape and the acquisition's settings beside it in
``YYYYMMDD_ACQ[_suffix]_info.txt`` (``key = value`` lines). HyperSpy (RosettaSciIO 0.x) reads
such a movie as a scan: a raster scan in STEM mode becomes navigation axes ``y, x`` (nm) and
signal axes ``ky, kx`` (nm^-1); a movie taken without scanning keeps a ``time`` axis (s) and
signal axes ``ky, kx`` (diffracting) or ``y, x``. We read them the same way, scales included:
RosettaSciIO sets every scale of a scan to 1 (its axes carry the units but not the pixel sizes,
which stay in ``original_metadata.de_metadata``), and so do we, so that both give the same axes.

Only the movie's own companion is used (same date and acquisition number); the virtual and
external detector images DE saves beside it are separate files that ``load`` reads on their own.
"""

from __future__ import annotations

import glob
import os
import re
import warnings
from typing import Any

from ...errors import FileFormatError

__all__ = ["MOVIE_RE", "info_file_for", "parse_info", "movie_layout"]

#: ``YYYYMMDD_acq[_optionalSuffix][_movieNum]_movie.mrc``, as RosettaSciIO names DE movies.
MOVIE_RE = re.compile(
    r"^(?P<timestamp>\d{8})_(?P<acquisition>\d+)(?:_(?P<suffix>.+?))?(?:_(?P<movie>\d+))?_movie\.mrc$"
)


#: Settings every DE info file holds and that decide the movie's layout.
_REQUIRED = ("Scan - Enable", "Image Size X (pixels)", "Image Size Y (pixels)")


def info_file_for(path: str | os.PathLike) -> str | None:
    """The ``*_info.txt`` companion of a DE movie, or None (not a DE movie name, or none).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     info_file_for("/nowhere/20241021_00405_movie.mrc") is None
    True
    >>> "no 20241021_00405_*info.txt beside it" in str(caught[0].message)
    True
    >>> info_file_for("/nowhere/scan.mrc") is None
    True
    """
    path = os.fspath(path)
    match = MOVIE_RE.fullmatch(os.path.basename(path))
    if match is None:
        return None
    folder = os.path.dirname(path) or "."
    prefix = glob.escape(os.path.join(folder, f"{match['timestamp']}_{match['acquisition']}_"))
    found = sorted(glob.glob(prefix + "info.txt") + glob.glob(prefix + "*_info.txt"))
    if not found:
        warnings.warn(
            f"{path!r} is named as a Direct Electron movie but has no "
            f"{match['timestamp']}_{match['acquisition']}_*info.txt beside it: its scan shape "
            "is unknown, so it is read as a stack of frames (as HyperSpy does).", stacklevel=4)
        return None
    return found[0]


def parse_info(path: str) -> dict[str, str]:
    """The ``key = value`` lines of an info file (lines without ``=`` are skipped).

    Examples
    --------
    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x_info.txt")
    >>> _ = open(p, "w").write("Scan - Size X = 8\\nnot a setting\\nScan - Type = Raster\\n")
    >>> parse_info(p)
    {'Scan - Size X': '8', 'Scan - Type': 'Raster'}
    """
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep:
                    out[key.strip()] = value.strip()
    except OSError as exc:
        raise FileFormatError(f"{path!r}: the Direct Electron info file cannot be read ({exc}).") from exc
    return out


def _number(info: dict[str, str], key: str, default: float, where: str) -> float:
    text = info.get(key, "")
    if text == "":
        return default
    try:
        return float(text)
    except ValueError:
        raise FileFormatError(
            f"{where!r}: expected a number for {key!r}, found {text!r}.") from None


def movie_layout(movie: str, info_path: str, nz: int) -> dict[str, Any]:
    """Shape, axes and metadata of a DE movie of ``nz`` frames, from its info file.

    Returns a dict: ``nav`` (numpy-order navigation shape replacing NZ), ``names``, ``units``,
    ``scales``, ``navigate`` (for the navigation axes then the two frame axes), ``metadata``
    and ``original`` (the info file's settings).
    """
    info = parse_info(info_path)
    missing = [key for key in _REQUIRED if key not in info]
    if missing:
        raise FileFormatError(
            f"{info_path!r} (the info file of {os.path.basename(movie)!r}) lacks "
            f"{', '.join(repr(k) for k in missing)}: expected a complete Direct Electron info "
            f"file ({len(info)} settings found); it is truncated or not DE's. Pass "
            "navigation_shape= to read the movie without it.")
    scanning = info.get("Scan - Enable", "Disable") == "Enable"
    raster = info.get("Scan - Type", "Raster") == "Raster"
    mode = int(_number(info, "Instrument Project TEMorSTEM Mode", -1, info_path))
    stem = scanning if mode == -1 else mode != 0
    diffracting = _number(info, "Instrument Project Camera Length (centimeters)", -1, info_path) != -1 or stem
    gain = _number(info, "ADUs Per Electron Bin1x", 1, info_path)
    metadata = {
        "Acquisition_instrument": {"TEM": {
            "magnification": info.get("Instrument Project Magnification"),
            "detector": info.get("Camera Model"),
            "frames_per_second": info.get("Frames Per Second"),
        }},
        "Signal": {"Noise_properties": {"gain_factor": 1 / gain}, "quantity": "$e^-$"},
        "General": {"timestamp": info.get("Timestamp (seconds since Epoch)")},
    }
    out: dict[str, Any] = {"metadata": metadata, "original": info}
    if scanning and not raster:
        warnings.warn(
            f"{movie!r}: {os.path.basename(info_path)} describes a {info.get('Scan - Type')!r} "
            "scan, whose frame order is in a scan-coordinates file that lazysignal does not "
            "apply; reading the movie as a stack of frames.", stacklevel=4)
        out.update(nav=(nz,), names=["time", "ky", "kx"], units=["sec", "nm^-1", "nm^-1"],
                   scales=[1.0, 1.0, 1.0], navigate=[True, False, False])
        return out
    if stem and scanning:
        roi = info.get("Scan - ROI Enable", "Disable") == "Enable"
        size_x = int(_number(info, "Scan - ROI Size X" if roi else "Scan - Size X", 1, info_path))
        size_y = int(_number(info, "Scan - ROI Size Y" if roi else "Scan - Size Y", 1, info_path))
        if size_x * size_y != nz:
            raise FileFormatError(
                f"{movie!r} holds {nz} frames but {os.path.basename(info_path)} describes a "
                f"{size_x} x {size_y} scan ({size_x * size_y} frames); the movie is incomplete "
                "or the info file belongs to another acquisition. Pass navigation_shape= to "
                "read the frames anyway.")
        # RosettaSciIO sets every scale of a scan to 1 (units kept): the same axes here.
        out.update(nav=(size_y, size_x), names=["y", "x", "ky", "kx"],
                   units=["nm", "nm", "nm^-1", "nm^-1"], scales=[1.0] * 4,
                   navigate=[True, True, False, False])
        return out
    per_frame = 1 / (_number(info, "Frames Per Second", 1, info_path)
                     * _number(info, "Autosave Movie Sum Count", 1, info_path))
    if diffracting:
        names, units = ["time", "ky", "kx"], ["sec", "nm^-1", "nm^-1"]
        pixel = ("Diffraction Pixel Size Y", "Diffraction Pixel Size X")
    else:
        names, units = ["time", "y", "x"], ["sec", "nm", "nm"]
        pixel = ("Specimen Pixel Size Y (nanometers)", "Specimen Pixel Size X (nanometers)")
    scales = [per_frame] + [_number(info, key, 1, info_path) for key in pixel]
    out.update(nav=(nz,), names=names, units=units,
               scales=[1.0 if s == -1 else s for s in scales], navigate=[True, False, False])
    return out

