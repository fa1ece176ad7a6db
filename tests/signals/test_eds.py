"""EDS signals: types, elements and lines, line maps (lazy == eager == numpy == the peer), one pass."""

from __future__ import annotations


import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.errors import XrayLineError
from lazysignal.signals import BaseSignal, EDSSEMSpectrum, EDSSpectrum, EDSTEMSpectrum, Signal1D
from lazysignal.testing import assert_signals_equal, chunks_for
from lazysignal.xray import energy_to_index
from counting import CountingSource


def eds(data, *, scale=0.01, offset=-0.1, units="keV", signal_type="EDS_TEM", title="sample"):
    s = Signal1D(data, metadata={"General": {"title": title}})
    e = s.axes_manager.signal_axes[0]
    e.scale, e.offset, e.units, e.name = scale, offset, units, "Energy"
    s.set_signal_type(signal_type)
    return s


def window_reference(data, axis_offset, axis_scale, windows, background=None):
    """Line maps by plain numpy, eXSpy's way: isig[lo:hi] sums, background scaled by index counts."""
    n = data.shape[-1]
    idx = lambda v: energy_to_index(v, axis_offset, axis_scale, n)  # noqa: E731
    maps = []
    for i, (lo, hi) in enumerate(windows):
        start, stop = idx(lo), idx(hi)
        start = 0 if start is None else start
        stop = n if stop is None else stop
        img = data[..., start:stop].sum(-1).astype(float)
        if background is not None:
            i0, i1, i2, i3 = (idx(v) for v in background[i])
            b1 = data[..., i0] if i0 == i1 else data[..., i0:i1].sum(-1)
            b2 = data[..., i2] if i2 == i3 else data[..., i2:i3].sum(-1)
            img = img - (b1 + b2) * ((stop - start) / ((i1 - i0) + (i3 - i2)))
        maps.append(img)
    return maps


# -- types and metadata ------------------------------------------------------------------
@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("stype, cls", [("EDS", EDSSpectrum), ("EDS_TEM", EDSTEMSpectrum),
                                        ("EDS_SEM", EDSSEMSpectrum)])
def test_set_signal_type_switches_class(lazy, stype, cls):
    s = Signal1D(np.zeros((2, 50)))
    s = s.as_lazy() if lazy else s
    s.set_signal_type(stype)
    assert type(s) is cls and s.lazy == lazy
    assert s.metadata.Signal.signal_type == stype
    s.set_signal_type("")
    assert type(s) is Signal1D


def test_metadata_defaults_and_microscope_parameters():
    s = EDSTEMSpectrum(np.zeros((2, 50)))
    eds_md = s.metadata.Acquisition_instrument.TEM.Detector.EDS
    assert (eds_md.energy_resolution_MnKa, eds_md.elevation_angle, eds_md.azimuth_angle) == (130.0, 35.0, 0.0)
    assert not s.metadata.has_item("Acquisition_instrument.TEM.beam_energy")
    s.set_microscope_parameters(beam_energy=300, live_time=1.5, real_time=2.0, energy_resolution_MnKa=128)
    tem = s.metadata.Acquisition_instrument.TEM
    assert (tem.beam_energy, tem.Detector.EDS.live_time, tem.Detector.EDS.real_time) == (300.0, 1.5, 2.0)
    assert tem.Detector.EDS.energy_resolution_MnKa == 128.0
    # Re-typed to SEM, the parameters move under SEM (as eXSpy moves them) once used.
    s.set_signal_type("EDS_SEM")
    s.set_microscope_parameters(live_time=3.0)
    assert s.metadata.Acquisition_instrument.SEM.beam_energy == 300.0
    assert not s.metadata.has_item("Acquisition_instrument.TEM")
    with pytest.raises(XrayLineError, match="set_signal_type"):
        EDSSpectrum(np.zeros(5)).set_microscope_parameters(beam_energy=200)


def test_elements_sorted_and_checked():
    s = eds(np.zeros(1000))
    s.add_elements(["Pt", "Fe"])
    s.add_elements(("Cu", "Fe"))
    assert s.metadata.Sample.elements == ["Cu", "Fe", "Pt"]
    s.set_elements(["O"])
    assert s.metadata.Sample.elements == ["O"]
    with pytest.raises(XrayLineError, match="'Xx' is not a chemical element"):
        s.add_elements(["Xx"])
    with pytest.raises(XrayLineError, match="as a list"):
        s.add_elements("Fe")


# -- against the peer: line choice, maps, files ------------------------------------------
CASES = [  # (elements, beam energy or None, only_one, only_lines)
    (["Fe", "Pt", "Cu"], None, True, ["a"]),
    (["Fe", "Pt", "Cu"], 10.0, True, ["a"]),
    (["Fe", "Pt", "Cu"], 200.0, True, ["a"]),
    (["Fe", "Pt", "Cu", "Al", "C"], 30.0, False, ["a"]),
    (["Fe", "Cu"], 200.0, False, ["a", "b"]),
]


@pytest.fixture(scope="module")
def peer_report(tmp_path_factory):
    """Our files and data go to the peer; it reads them, computes maps, writes its own file."""
    from peer import run_peer

    folder = tmp_path_factory.mktemp("eds")
    data = np.random.default_rng(7).poisson(1.5, (3, 4, 1100)).astype(float)
    np.save(folder / "data.npy", data)
    ours = eds(data, title="ours")
    ours.add_elements(["Pt", "Fe"])
    ours.set_microscope_parameters(beam_energy=200.0, live_time=0.5)
    ours.save(folder / "ours.hspy")
    ours.as_lazy().save(folder / "ours.zspy")
    windows = ours.estimate_integration_windows(2.0, ["Fe_Ka", "Pt_La", "Pt_Ma"])
    background = ours.estimate_background_windows([2, 2], 1, xray_lines=["Fe_Ka", "Pt_La", "Pt_Ma"])
    np.save(folder / "windows.npy", windows)
    np.save(folder / "background.npy", background)
    report = run_peer(f"""
import numpy as np, hyperspy.api as hs
folder = {str(folder)!r}
out = {{}}
for name in ("ours.hspy", "ours.zspy"):
    s = hs.load(folder + "/" + name)
    out[name] = dict(cls=type(s).__name__, elements=list(s.metadata.Sample.elements),
                     beam=float(s.metadata.Acquisition_instrument.TEM.beam_energy),
                     equal=bool(np.array_equal(np.asarray(s.data), np.load(folder + "/data.npy"))))
s = hs.signals.Signal1D(np.load(folder + "/data.npy"))
s.metadata.General.title = "peer"
e = s.axes_manager[-1]; e.scale, e.offset, e.units, e.name = 0.01, -0.1, "keV", "Energy"
s.set_signal_type("EDS_TEM")
lines = []
for elements, beam, only_one, only_lines in {CASES!r}:
    t = s.deepcopy()
    if beam is not None:
        t.set_microscope_parameters(beam_energy=beam)
    lines.append(t._get_lines_from_elements(elements, only_one=only_one, only_lines=only_lines))
out["lines"] = lines
w, b = np.load(folder + "/windows.npy").tolist(), np.load(folder + "/background.npy")  # eXSpy wants lists
xl = ["Fe_Ka", "Pt_La", "Pt_Ma"]
plain = s.get_lines_intensity(xl, integration_windows=w)
back = s.get_lines_intensity(xl, integration_windows=w, background_windows=b)
default = s.get_lines_intensity(["Fe_Ka", "Pt_La"])
out["plain"] = [m.data.tolist() for m in plain]
out["back"] = [m.data.tolist() for m in back]
out["default"] = [dict(data=m.data.tolist(), title=m.metadata.General.title, cls=type(m).__name__,
                       nav=list(m.axes_manager.navigation_shape), sig=list(m.axes_manager.signal_shape),
                       elements=list(m.metadata.Sample.elements), lines=list(m.metadata.Sample.xray_lines),
                       stype=m.metadata.Signal.signal_type) for m in default]
s.add_elements(["Fe", "Pt"]); s.set_microscope_parameters(beam_energy=120.0)
s.save(folder + "/peer.hspy")
emit(out)
""")
    return folder, data, report


@pytest.mark.peer
@pytest.mark.parametrize("case", range(len(CASES)))
def test_lines_from_elements_as_the_peer_chooses(peer_report, case):
    _, data, report = peer_report
    elements, beam, only_one, only_lines = CASES[case]
    s = eds(data)
    if beam is not None:
        s.set_microscope_parameters(beam_energy=beam)
    peer_lines = set(report["lines"][case])
    ours = set(s._lines_from_elements(elements, only_one=only_one, only_lines=only_lines))
    # eXSpy's table lacks some lines xraydb has (e.g. Fe_Lb1): those are the only extras allowed.
    assert peer_lines <= ours
    assert all(x.split("_")[1] in ("Lb1", "Lb2", "Lb4", "Lg1", "Lg3", "Ka", "Kb", "Mb") for x in ours - peer_lines)
    if only_one:
        assert ours == peer_lines


@pytest.mark.peer
def test_maps_equal_the_peers_with_the_same_windows(peer_report):
    folder, data, report = peer_report
    s = eds(data, title="peer")
    lines = ["Fe_Ka", "Pt_La", "Pt_Ma"]
    w, b = np.load(folder / "windows.npy"), np.load(folder / "background.npy")
    for lazy in (False, True):
        t = s.as_lazy(chunks=(2, 4, 300)) if lazy else s
        plain = t.get_lines_intensity(lines, integration_windows=w)
        back = t.get_lines_intensity(lines, integration_windows=w, background_windows=b)
        ls.compute(*plain, *back)
        for m, expected in zip(plain, report["plain"]):
            np.testing.assert_allclose(m.data, expected, rtol=1e-12)
        for m, expected in zip(back, report["back"]):
            np.testing.assert_allclose(m.data, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.peer
def test_default_maps_titles_and_metadata_as_the_peer(peer_report):
    _, data, report = peer_report
    maps = eds(data, title="peer").as_lazy().get_lines_intensity(["Fe_Ka", "Pt_La"])
    for m, p in zip(maps, report["default"]):
        assert type(m).__name__ == p["cls"] == "BaseSignal"
        # Same title but for the energy: xraydb's Fe Ka1 is 6.4052 keV ("6.41"), eXSpy's Fe Ka 6.4039.
        ours_title, ours_energy = m.metadata.General.title.rsplit(" at ", 1)
        peer_title, peer_energy = p["title"].rsplit(" at ", 1)
        assert ours_title == peer_title and ours_energy.endswith(" keV")
        assert abs(float(ours_energy.split()[0]) - float(peer_energy.split()[0])) <= 0.01
        assert list(m.axes_manager.navigation_shape) == p["nav"] and list(m.axes_manager.signal_shape) == p["sig"]
        assert m.metadata.Sample.elements == p["elements"] and m.metadata.Sample.xray_lines == p["lines"]
        assert m.metadata.Signal.signal_type == p["stype"]
        # xraydb's energies move the default windows by ~1 eV, which on this axis changes no channel.
        np.testing.assert_allclose(m.compute().data, p["data"], rtol=1e-12)


@pytest.mark.peer
def test_files_move_both_ways_as_eds(peer_report):
    folder, data, report = peer_report
    for name in ("ours.hspy", "ours.zspy"):
        assert report[name] == dict(cls="EDSTEMSpectrum", elements=["Fe", "Pt"], beam=200.0, equal=True)
    for lazy in (False, True):
        s = ls.load(folder / "peer.hspy", lazy=lazy)
        assert type(s) is EDSTEMSpectrum and s.lazy == lazy
        assert s.metadata.Sample.elements == ["Fe", "Pt"]
        assert s.metadata.Acquisition_instrument.TEM.beam_energy == 120.0
        np.testing.assert_array_equal(np.asarray(s.data if not lazy else s.data.compute()), data)
    again = ls.load(folder / "ours.zspy", lazy=True)
    assert type(again) is EDSTEMSpectrum and again.metadata.Acquisition_instrument.TEM.Detector.EDS.live_time == 0.5


# -- lazy == eager == numpy ------------------------------------------------------------------
@given(data=st.data())
def test_lazy_equals_eager_equals_numpy(data):
    shape = data.draw(st.sampled_from([(300,), (3, 300), (2, 3, 300), (4, 2, 320)]))
    values = np.random.default_rng(data.draw(st.integers(0, 50))).poisson(2.0, shape)
    values = values.astype(data.draw(st.sampled_from(["float64", "float32", "uint16"])))
    s = eds(values, scale=0.04, offset=-0.2)
    lines = data.draw(st.sampled_from([["Fe_Ka"], ["Fe_Ka", "Pt_La"], ["Cu_Ka", "Pt_Ma", "Fe_Kb"]]))
    width = data.draw(st.sampled_from([1.0, 2.0, 3.5]))
    with_background = data.draw(st.booleans())
    windows = s.estimate_integration_windows(width, lines)
    background = s.estimate_background_windows([2, 2], 1, xray_lines=lines) if with_background else None
    eager = s.get_lines_intensity(lines, integration_windows=width, background_windows=background)
    lazy = s.as_lazy(chunks=data.draw(chunks_for(shape))).get_lines_intensity(
        lines, integration_windows=width, background_windows=background)
    expected = window_reference(values, -0.2, 0.04, windows, background)
    for e, z, ref in zip(eager, lazy, expected):
        assert z.lazy and not e.lazy
        assert_signals_equal(z, e, rtol=1e-5 if values.dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(np.ravel(e.data), np.ravel(ref), rtol=1e-5, atol=1e-6)


def test_energy_axis_in_ev():
    values = np.random.default_rng(2).poisson(2.0, (3, 500)).astype(float)
    kev = eds(values, scale=0.02, offset=0.0).get_lines_intensity(["Fe_Ka", "Pt_La"])
    ev = eds(values, scale=20.0, offset=0.0, units="eV").get_lines_intensity(["Fe_Ka", "Pt_La"])
    for a, b in zip(kev, ev):
        np.testing.assert_array_equal(a.data, b.data)
    assert ev[0].metadata.General.title == "X-ray line intensity of sample: Fe_Ka at 6405.20 eV"


# -- one pass -----------------------------------------------------------------------------------
def counted_eds(shape=(8, 6, 1100), chunks=(4, 6, 275)):
    values = np.random.default_rng(4).poisson(2.0, shape).astype(float)
    source = CountingSource(values)
    x = da.from_array(source, chunks=chunks, asarray=False, name="eds-counted", meta=np.empty((0,) * len(shape)))
    return eds(x), values, source


def needed_reads(chunks=(4, 6, 275), columns=(2, 3)):
    # Fe_Ka (6.4 keV, channel ~650) in channel chunk 2, Pt_La (9.44 keV, ~954) in chunk 3,
    # with their background windows (channels 610-691 and 906-1002).
    return sorted(((r, r + chunks[0]), (0, 6), (c * chunks[2], (c + 1) * chunks[2]))
                  for r in (0, 4) for c in columns)


def test_computing_one_map_reads_needed_chunks_once_and_fills_all():
    s, values, source = counted_eds()
    fe, pt = s.get_lines_intensity(["Fe_Ka", "Pt_La"])
    assert source.reads == []  # building the maps reads nothing
    fe.compute()
    assert sorted(source.reads) == needed_reads()  # chunks 0 and 1 never read
    assert not pt.lazy  # filled by the same pass
    pt.compute()
    assert sorted(source.reads) == needed_reads()
    ref = window_reference(values, -0.1, 0.01, s.estimate_integration_windows(2.0, ["Fe_Ka", "Pt_La"]))
    np.testing.assert_allclose(fe.data, ref[0])
    np.testing.assert_allclose(pt.data, ref[1])


def test_ls_compute_of_all_maps_is_one_pass_with_background():
    s, values, source = counted_eds()
    lines = ["Fe_Ka", "Pt_La"]
    bw = s.estimate_background_windows(xray_lines=lines)
    maps = s.get_lines_intensity(lines, background_windows=bw)
    ls.compute(*maps)
    assert sorted(source.reads) == needed_reads()
    ref = window_reference(values, -0.1, 0.01, s.estimate_integration_windows(2.0, lines), bw)
    for m, r in zip(maps, ref):
        np.testing.assert_allclose(m.data, r)


def test_a_map_replaced_by_the_user_is_left_alone():
    s, _, source = counted_eds()
    fe, pt = s.get_lines_intensity(["Fe_Ka", "Pt_La"])
    mine = da.zeros(pt.data.shape, chunks=pt.data.chunks)
    pt.data = mine
    fe.compute()
    assert pt.data is mine


def test_second_call_reads_again():
    # Each call is its own pass: a new call reads the needed chunks again (nothing is global).
    s, _, source = counted_eds()
    s.get_lines_intensity(["Fe_Ka"])[0].compute()
    first = len(source.reads)
    s.get_lines_intensity(["Fe_Ka"])[0].compute()
    assert len(source.reads) == 2 * first == 2 * len(needed_reads(columns=(2,)))


def test_single_spectrum_and_plot_result_prints(capsys):
    values = np.random.default_rng(5).poisson(3.0, 1000).astype(float)
    s = eds(values)
    (fe,) = s.as_lazy().get_lines_intensity(["Fe_Ka"], plot_result=True)
    expected = window_reference(values, -0.1, 0.01, s.estimate_integration_windows(2.0, ["Fe_Ka"]))[0]
    assert isinstance(fe, BaseSignal) and fe.data.shape == (1,) and fe.data[0] == expected
    assert capsys.readouterr().out == f"Fe_Ka at 6.4052 keV : Intensity = {float(expected):.2f}\n"


# -- lines from metadata, bad input ---------------------------------------------------------------
def test_lines_from_metadata():
    s = eds(np.ones((2, 1000)))
    s.set_microscope_parameters(beam_energy=200)
    s.add_elements(["Fe", "Pt"])
    assert [m.metadata.Sample.xray_lines[0] for m in s.get_lines_intensity()] == ["Fe_Ka", "Pt_La"]
    s.set_lines(["Fe_Kb"])
    assert s.metadata.Sample.xray_lines == ["Fe_Kb", "Pt_La"]
    assert [m.metadata.Sample.xray_lines[0] for m in s.get_lines_intensity()] == ["Fe_Kb", "Pt_La"]
    s.add_lines(["Cu_Ka"])
    assert s.metadata.Sample.xray_lines == ["Cu_Ka", "Fe_Kb", "Pt_La"]
    assert s.metadata.Sample.elements == ["Cu", "Fe", "Pt"]


def test_bad_input():
    s = eds(np.ones((2, 1100)))
    with pytest.raises(XrayLineError, match="'Xx' is not a chemical element"):
        s.get_lines_intensity(["Xx_Ka"])
    with pytest.raises(XrayLineError, match=r"Pt_Ka \(66.8.*outside the energy range \(-0.1, 10.89\) keV"):
        s.get_lines_intensity(["Fe_Ka", "Pt_Ka"])
    with pytest.raises(XrayLineError, match="outside the energy range"):
        s.add_lines(["Pt_Ka"])
    with pytest.raises(XrayLineError, match="No X-ray lines"):
        s.get_lines_intensity()
    with pytest.raises(XrayLineError, match="list of line names"):
        s.get_lines_intensity("Fe_Ka")
    with pytest.raises(XrayLineError, match=r"shape \(1, 2\); got shape \(2,\)"):
        s.get_lines_intensity(["Fe_Ka"], integration_windows=[6.2, 6.6])
    with pytest.raises(XrayLineError, match=r"background_windows needs"):
        s.get_lines_intensity(["Fe_Ka"], background_windows=[[6.0, 6.1]])
    with pytest.raises(XrayLineError, match="plot_result=True"):
        s.get_lines_intensity(["Fe_Ka"], colorbar=True)
    nm = eds(np.ones((2, 1000)), units="nm")
    with pytest.raises(XrayLineError, match="'nm'.*'eV' or 'keV'"):
        nm.get_lines_intensity(["Fe_Ka"])
    beam = eds(np.ones((2, 1100)))
    beam.set_microscope_parameters(beam_energy=8.0)
    with pytest.raises(XrayLineError, match=r"Pt_La.*\(-0.1, 8\) keV"):
        beam.get_lines_intensity(["Pt_La"])


def test_decomposition_normalises_poisson_noise_by_default():
    values = np.random.default_rng(6).poisson(3.0, (6, 5, 200)).astype(float)
    s = eds(values)
    s.decomposition(print_info=False)
    plain = Signal1D(values)
    plain.decomposition(normalize_poissonian_noise=True, print_info=False)
    np.testing.assert_allclose(s.learning_results.explained_variance, plain.learning_results.explained_variance)
    unscaled = Signal1D(values)
    unscaled.decomposition(print_info=False)
    assert not np.allclose(unscaled.learning_results.explained_variance, plain.learning_results.explained_variance)
    s.decomposition(normalize_poissonian_noise=False, print_info=False)  # told otherwise
    np.testing.assert_allclose(s.learning_results.explained_variance, unscaled.learning_results.explained_variance)
