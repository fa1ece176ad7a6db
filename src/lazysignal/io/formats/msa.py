"""EMSA/MAS spectral text files (``.msa``, ``.ems``, ``.mas``, ``.emsa``; ISO 22029).

One 1-D spectrum per file. Reading is eager (the files are tiny); ``lazy=True`` wraps the
array in a single-chunk dask array. The writer reproduces RosettaSciIO's output byte for
byte (``shared/FORMATS-binary.md`` section 4.3), except that the default ``COMMENT`` names
lazysignal instead of RosettaSciIO.
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import dask.array as da
import numpy as np

from lazysignal.errors import FileFormatError, FormatCapabilityError, TruncatedFileError
from lazysignal.io.backends.metadata import set_item
from lazysignal.io.chunking import plan_chunks
from lazysignal.io.spec import AxisDict, FormatSpec, SignalDict

__all__ = ["FORMAT", "read", "write", "parse_msa_text"]

FORMAT = FormatSpec(
    "msa", ("msa", "ems", "mas", "emsa"), writes=True, lazy=True, chunks=True, distributed=False
)

_FORMAT_STRING = "EMSA/MAS Spectral Data File"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

# keyword -> (type, HyperSpy metadata path or None), in the order the writer appends them.
_KEYWORDS: dict[str, tuple[type, str | None]] = {
    "FORMAT": (str, None),
    "VERSION": (str, None),
    "TITLE": (str, "General.title"),
    "DATE": (str, None),
    "TIME": (str, None),
    "OWNER": (str, None),
    "NPOINTS": (float, None),
    "NCOLUMNS": (float, None),
    "DATATYPE": (str, None),
    "XPERCHAN": (float, None),
    "OFFSET": (float, None),
    "SIGNALTYPE": (str, None),
    "XLABEL": (str, None),
    "YLABEL": (str, None),
    "XUNITS": (str, None),
    "YUNITS": (str, None),
    "CHOFFSET": (float, None),
    "COMMENT": (str, None),
    "BEAMKV": (float, "Acquisition_instrument.TEM.beam_energy"),
    "EMISSION": (float, None),
    "PROBECUR": (float, "Acquisition_instrument.TEM.beam_current"),
    "BEAMDIAM": (float, None),
    "MAGCAM": (float, None),
    "OPERMODE": (str, None),
    "CONVANGLE": (float, "Acquisition_instrument.TEM.convergence_angle"),
    "THICKNESS": (float, "Sample.thickness"),
    "XTILTSTGE": (float, "Acquisition_instrument.TEM.Stage.tilt_alpha"),
    "YTILTSTGE": (float, None),
    "XPOSITION": (float, None),
    "YPOSITION": (float, None),
    "ZPOSITION": (float, None),
    "INTEGTIME": (float, "Acquisition_instrument.TEM.Detector.EELS.exposure"),
    "DWELLTIME": (float, "Acquisition_instrument.TEM.Detector.EELS.dwell_time"),
    "COLLANGLE": (float, "Acquisition_instrument.TEM.Detector.EELS.collection_angle"),
    "ELSDET": (str, None),
    "ELEVANGLE": (float, "Acquisition_instrument.TEM.Detector.EDS.elevation_angle"),
    "AZIMANGLE": (float, "Acquisition_instrument.TEM.Detector.EDS.azimuth_angle"),
    "SOLIDANGLE": (float, "Acquisition_instrument.TEM.Detector.EDS.solid_angle"),
    "LIVETIME": (float, "Acquisition_instrument.TEM.Detector.EDS.live_time"),
    "REALTIME": (float, "Acquisition_instrument.TEM.Detector.EDS.real_time"),
    "FWHMMNKA": (float, "Acquisition_instrument.TEM.Detector.EDS.energy_resolution_MnKa"),
    "TBEWIND": (float, None),
    "TAUWIND": (float, None),
    "TDEADLYR": (float, None),
    "TACTLYR": (float, None),
    "TALWIND": (float, None),
    "TPYWIND": (float, None),
    "TBNWIND": (float, None),
    "TDIWIND": (float, None),
    "THCWIND": (float, None),
    "EDSDET": (str, "Acquisition_instrument.TEM.Detector.EDS.EDS_det"),
}


def _package_version() -> str:
    try:
        return version("lazysignal")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _get(tree: dict, path: str, default: Any = None) -> Any:
    for key in path.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return default
        tree = tree[key]
    return tree


def _has(tree: dict, path: str) -> bool:
    sentinel = object()
    return _get(tree, path, sentinel) is not sentinel


def _convert(value: str, type_: type, key: str, filename: str) -> Any:
    try:
        return type_(value)
    except ValueError:
        pass
    # Common misspellings in the wild: "2.0 E-06" (space inside the exponent) and
    # "100. 200." (two values where one is expected: keep the first).
    candidate = value.replace(" ", "") if "e" in value.lower() else value.split(" ")[0]
    try:
        return type_(candidate)
    except ValueError:
        warnings.warn(
            f"{filename}: keyword {key} should hold a number, found {value!r}; kept as text.",
            stacklevel=3,
        )
        return value


def parse_msa_text(text: str, filename: str = "<string>") -> SignalDict:
    """Parse the text of an EMSA/MAS file into a signal dictionary.

    Parameters
    ----------
    text
        The whole file content.
    filename
        Used in error messages and ``General.original_filename``.

    Returns
    -------
    SignalDict
        Eager float64 data, one signal axis, metadata and original_metadata.

    Raises
    ------
    FileFormatError
        When the text is not an EMSA/MAS spectrum (no ``#SPECTRUM`` line, no data,
        unknown DATATYPE, or a data value that is not a number).

    Examples
    --------
    >>> text = "\\n".join(["#FORMAT      : EMSA/MAS Spectral Data File",
    ...     "#DATATYPE    : Y", "#XPERCHAN    : 0.5", "#SPECTRUM    : data",
    ...     "1, 2, 3", "#ENDOFDATA   : end"])
    >>> d = parse_msa_text(text)
    >>> d["data"].tolist(), d["axes"][0]["scale"]
    ([1.0, 2.0, 3.0], 0.5)
    """
    params: dict[str, Any] = {}
    values: list[float] = []
    in_data = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not in_data:
            if not line.startswith("#"):
                continue
            parts = line.split(": ")
            if len(parts) == 2:
                key, value = parts[0], parts[1].rstrip()
            else:
                key, value = line, None
            key = key.strip("#").strip()
            if key == "SPECTRUM":
                in_data = True
                if "DATATYPE" not in params:
                    params["DATATYPE"] = "Y"
                datatype = (params["DATATYPE"] or "").strip().upper()
                if datatype not in ("Y", "XY"):
                    raise FileFormatError(
                        f"{filename}: DATATYPE must be 'Y' or 'XY', found "
                        f"{params['DATATYPE']!r}."
                    )
            elif key in ("TITLE", "COMMENT") and key in params and value is not None:
                params[key] = (params[key] or "") + value  # ISO 2022: continued lines
            else:
                params[key] = value
            continue
        if line.startswith("#") or not line.strip():
            continue
        tokens = line.replace(",", " ").split()
        try:
            numbers = [float(t) for t in tokens]
        except ValueError:
            raise FileFormatError(
                f"{filename}, line {lineno}: expected comma-separated numbers in the data "
                f"section, found {line.strip()!r}."
            ) from None
        if datatype == "XY":
            # x, y pairs: keep the y of each pair (NCOLUMNS may put several pairs on a line).
            values.extend(numbers[1::2])
        else:
            values.extend(numbers)
    if not in_data:
        raise FileFormatError(
            f"{filename}: not an EMSA/MAS spectrum: no '#SPECTRUM    :' line found that "
            "starts the data section."
        )
    if not values:
        raise FileFormatError(f"{filename}: the data section after #SPECTRUM holds no values.")
    declared = _declared_points(params.get("NPOINTS"))
    if declared is not None and len(values) < declared:
        raise TruncatedFileError(
            f"{filename}: NPOINTS says {declared} values but the data section holds "
            f"{len(values)}; the file is cut short. Copy it again from its source.")
    params["FORMAT"] = _FORMAT_STRING

    metadata: dict[str, Any] = {}
    for key, value in list(params.items()):
        name, _, unit_text = key.partition("-")
        name, units = name.strip(), unit_text.strip() or None
        if not value or name not in _KEYWORDS:
            continue
        type_, path = _KEYWORDS[name]
        params[key] = _convert(value, type_, key, filename)
        if path is not None:
            set_item(metadata, path, params[key])
            if units is not None:
                set_item(metadata, path + "_units", units)

    _read_time(params, metadata, filename)
    _read_date(params, metadata, filename)
    set_item(metadata, "General.original_filename", os.path.basename(filename))
    signal_type = _signal_type(params)
    set_item(metadata, "Signal.signal_type", signal_type)
    quantity = _quantity(params, signal_type)
    if quantity:
        set_item(metadata, "Signal.quantity", quantity)

    axis: AxisDict = {
        "name": params.get("XLABEL") or "",
        "units": params.get("XUNITS") or "",
        "navigate": False,
        "size": len(values),
        "scale": params["XPERCHAN"] if isinstance(params.get("XPERCHAN"), float) else 1.0,
        "offset": params["OFFSET"] if isinstance(params.get("OFFSET"), float) else 0.0,
    }
    return {
        "data": np.asarray(values, dtype=np.float64),
        "axes": [axis],
        "metadata": metadata,
        "original_metadata": params,
    }


def _read_time(params: dict, metadata: dict, filename: str) -> None:
    text = params.get("TIME")
    if not text:
        return
    fmt = {2: "%H:%M", 3: "%H:%M:%S"}.get(len(text.split(":")))
    try:
        if fmt is None:
            raise ValueError("expected HH:MM or HH:MM:SS")
        set_item(metadata, "General.time", datetime.strptime(text, fmt).time().isoformat())
    except ValueError as exc:
        warnings.warn(f"{filename}: TIME {text!r} is not HH:MM ({exc}); time not read.", stacklevel=3)


def _read_date(params: dict, metadata: dict, filename: str) -> None:
    text = params.get("DATE")
    if not text:
        return
    parts = text.strip().split("-")
    try:
        if len(parts) != 3 or parts[1].upper() not in _MONTHS:
            raise ValueError("expected DD-MMM-YYYY, e.g. 01-OCT-1991")
        month = _MONTHS.index(parts[1].upper()) + 1
        date = datetime(int(parts[2]), month, int(parts[0])).date()
        set_item(metadata, "General.date", date.isoformat())
    except ValueError as exc:
        warnings.warn(f"{filename}: DATE {text!r} not understood ({exc}); date not read.", stacklevel=3)


def _signal_type(params: dict) -> str:
    kind = params.get("SIGNALTYPE")
    if not kind:
        return ""
    if kind == "ELS":
        return "EELS"
    if kind == "CLS":
        return "CL"
    if kind == "EDS":
        beam = next((v for k, v in params.items() if k.startswith("BEAMKV")), None)
        return "EDS_TEM" if isinstance(beam, float) and beam > 30 else "EDS_SEM"
    if kind not in ("WDS", "AES", "PES", "XRF", "GAM"):
        warnings.warn(f"SIGNALTYPE {kind!r} is not one of the EMSA/MAS signal types.", stacklevel=3)
    return ""


def _declared_points(text: str | None) -> int | None:
    """NPOINTS as an int (files write ``1024`` or ``1024.``), None when absent or unreadable."""
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _quantity(params: dict, signal_type: str) -> str:
    yunits = f"({params['YUNITS']})" if "YUNITS" in params else ""
    if "YLABEL" in params:
        quantity = f"{params['YLABEL']}"
    elif signal_type == "EELS":
        quantity, yunits = "Electrons", yunits or "(Counts)"
    elif "EDS" in signal_type:
        quantity, yunits = "X-rays", yunits or "(Counts)"
    else:
        quantity = ""
    return f"{quantity} {yunits}".strip() if (quantity or yunits) else ""


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = False,
    encoding: str = "latin-1",
) -> list[SignalDict]:
    """Read an EMSA/MAS spectrum.

    Parameters
    ----------
    path
        The ``.msa`` file.
    lazy
        Wrap the (small, eagerly read) array in a dask array.
    chunks
        Dask chunks of the lazy array; ``"auto"``: one chunk (the whole spectrum).
    distributed
        Only ``False``: the text is parsed into memory, so the lazy array holds the data
        rather than reading the file per task.
    encoding
        Text encoding; undecodable bytes are replaced.

    Returns
    -------
    list of SignalDict
        One signal.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.msa"
    >>> ax = {"name": "Energy", "units": "eV", "navigate": False, "size": 3, "scale": 1.0,
    ...       "offset": 0.0}
    >>> write(p, {"data": np.array([1.0, 2.0, 3.0]), "axes": [ax], "metadata": {},
    ...           "original_metadata": {}})
    >>> read(p)[0]["data"].tolist()
    [1.0, 2.0, 3.0]
    """
    filename = os.fspath(path)
    if distributed:
        raise FormatCapabilityError(
            f"distributed=True for {filename!r}: an EMSA/MAS spectrum is parsed into memory, "
            "so its lazy array holds the data instead of reading the file per task. Pass "
            "distributed=False (or leave it out when calling lazysignal.load).")
    with open(filename, encoding=encoding, errors="replace") as f:
        text = f.read()
    signal = parse_msa_text(text, filename)
    if lazy:
        data = signal["data"]
        signal["data"] = da.from_array(data, chunks=plan_chunks(
            chunks, data.shape, data.dtype, frame_ndim=data.ndim, where=filename))
    return [signal]


def _signal_type_keyword(signal_type: str) -> str:
    if signal_type in ("EDS_SEM", "EDS_TEM"):
        return "EDS"
    if signal_type == "EELS":
        return "ELS"
    if signal_type in ("CL", "CL_SEM", "CL_STEM"):
        return "CLS"
    if signal_type in ("EDS", "WDS", "ELS", "AES", "PES", "XRF", "CLS", "GAM"):
        return signal_type
    return ""


def _header_keywords(signal: SignalDict, datatype: str | None, comment: str) -> tuple[dict, str]:
    metadata = signal.get("metadata") or {}
    original = dict(signal.get("original_metadata") or {})
    axis = signal["axes"][0]
    kw: dict[str, Any] = {}
    if original.get("FORMAT") == _FORMAT_STRING:
        # Re-saving a file read from MSA: keep its keys and their order.
        kw = original
        if datatype is None:
            datatype = kw.get("DATATYPE") or "Y"
        kw["DATATYPE"] = datatype
    else:
        datatype = datatype or "Y"
        date = _get(metadata, "General.date")
        if date:
            d = datetime.strptime(date, "%Y-%m-%d")
            kw["DATE"] = f"{d.day:02d}-{_MONTHS[d.month - 1]}-{d.year}"
    signal_type = _get(metadata, "Signal.signal_type", "") or ""
    kw["SIGNALTYPE"] = _signal_type_keyword(signal_type)
    kw.setdefault("COMMENT", comment)
    from_signal = {
        "FORMAT": _FORMAT_STRING,
        "VERSION": "1.0",
        "TITLE": _get(metadata, "General.title", ""),
        "DATE": "",
        "TIME": "",
        "OWNER": "",
        "NPOINTS": axis["size"],
        "NCOLUMNS": 1,
        "DATATYPE": datatype,
        "SIGNALTYPE": "",
        "XPERCHAN": axis.get("scale", 1.0),
        "OFFSET": axis.get("offset", 0.0),
        "XLABEL": axis.get("name", ""),
        "XUNITS": axis.get("units", ""),
    }
    for key, value in from_signal.items():
        if key not in kw or value != "":
            kw[key] = value
    microscope = "SEM" if "SEM" in signal_type else "TEM"
    for key, (_, path) in _KEYWORDS.items():
        if path is None:
            continue
        path = path.replace("TEM", microscope)
        if _has(metadata, path):
            kw[key] = _get(metadata, path)
    kw.pop("SPECTRUM", None)
    kw.pop("ENDOFDATA", None)
    return kw, datatype


def write(
    path: str | os.PathLike,
    signal: SignalDict,
    *,
    format: str | None = "Y",
    separator: str = ", ",
    encoding: str = "latin-1",
    comment: str | None = None,
) -> None:
    """Write a 1-D signal as an EMSA/MAS spectrum.

    Parameters
    ----------
    path
        Output file.
    signal
        A signal dictionary with exactly one axis (lazy data is computed: spectra are small).
    format
        ``"Y"`` (values only, the default) or ``"XY"`` (calibrated x, y pairs);
        ``None`` keeps the DATATYPE of a file read from MSA.
    separator
        Column separator; anything but ``", "`` breaks the standard.
    encoding
        Text encoding; characters it cannot encode are dropped.
    comment
        The COMMENT keyword for a signal that has none
        (default ``File created by lazysignal version <v>``).

    Raises
    ------
    FileFormatError
        When the signal is not one-dimensional or ``format`` is not ``Y``/``XY``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.msa"
    >>> ax = {"name": "E", "units": "eV", "navigate": False, "size": 2, "scale": 0.01,
    ...       "offset": 0.0}
    >>> write(p, {"data": np.array([1.0, 2.0]), "axes": [ax], "metadata": {},
    ...           "original_metadata": {}}, comment="demo")
    >>> p.read_bytes().splitlines()[-2]
    b'2.000000, '
    """
    data = signal["data"]
    if hasattr(data, "compute"):
        data = data.compute()
    data = np.asarray(data)
    if data.ndim != 1 or len(signal["axes"]) != 1:
        raise FileFormatError(
            f"Cannot save {os.fspath(path)!r} as EMSA/MAS: it holds one spectrum (1 axis); "
            f"the signal has shape {data.shape}. Save each spectrum separately or use .hspy."
        )
    if format not in (None, "Y", "XY"):
        raise FileFormatError(f"format must be None, 'Y' or 'XY', got {format!r}.")
    if comment is None:
        comment = f"File created by lazysignal version {_package_version()}"
    kw, datatype = _header_keywords(signal, format, comment)
    if datatype not in ("Y", "XY"):
        raise FileFormatError(f"DATATYPE must be 'Y' or 'XY', got {datatype!r}.")

    lines = [f"#{'FORMAT':<12}: {kw.pop('FORMAT')}", f"#{'VERSION':<12}: {kw.pop('VERSION')}"]
    for key, value in kw.items():
        if key in ("TITLE", "COMMENT") and isinstance(value, str) and value:
            lines += [f"#{key:<12}: {value[i : i + 64]}" for i in range(0, len(value), 64)]
        else:
            lines.append(f"#{key:<12}: {value}")
    lines.append(f"#{'SPECTRUM':<12}: Spectral Data Starts Here")
    if datatype == "XY":
        axis = signal["axes"][0]
        x = axis.get("offset", 0.0) + axis.get("scale", 1.0) * np.arange(axis["size"])
        lines += ["%g%s%g" % (xi, separator, yi) for xi, yi in zip(x, data)]
    else:
        lines += ["%f%s" % (yi, separator) for yi in data]
    text = "\r\n".join(lines) + "\r\n" + f"#{'ENDOFDATA':<12}: End Of Data and File"
    with open(os.fspath(path), "w", encoding=encoding, errors="ignore", newline="") as f:
        f.write(text)
