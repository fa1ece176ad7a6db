"""Window arithmetic: eXSpy's FWHM, windows and HyperSpy's energy-to-channel rounding."""

from __future__ import annotations

import numpy as np
import pytest
from peer import run_peer

from lazysignal.errors import XrayLineError
from lazysignal.xray import (background_windows, energy_to_index, fwhm_at_energy, integration_windows, line_energy,
                             plan_windows)

AXES = [(-0.1, 0.01, 992), (0.0, 10.0, 2048), (0.35, 0.005, 600)]  # (offset, scale, size)
rng = np.random.default_rng(3)
PROBES = {i: np.concatenate([rng.uniform(off - 2 * sc, off + sc * (n + 1), 200),
                             off + sc * (np.arange(0, n, 37) + 0.5)])  # exact halves too
          for i, (off, sc, n) in enumerate(AXES)}
LINES = ["Fe_Ka", "Pt_La", "Fe_Kb", "Cu_Ka", "Pt_Ma"]


@pytest.fixture(scope="module")
def peer():
    return run_peer(f"""
import numpy as np, hyperspy.api as hs
from exspy._misc.eds import utils
axes = {AXES!r}
probes = {{i: v for i, v in {({i: p.tolist() for i, p in PROBES.items()})!r}.items()}}
index = {{}}
for i, (off, sc, n) in enumerate(axes):
    ax = hs.signals.Signal1D(np.zeros(n)).axes_manager[0]
    ax.offset, ax.scale = off, sc
    out = []
    for v in probes[i]:
        try:
            out.append(int(ax.value2index(v)))
        except ValueError:
            out.append(None)
    index[i] = out
energies = [0.5, 1.0, 5.8987, 6.4, 9.44, 15.0]
fwhm = [utils.get_FWHM_at_Energy(r, e) for r in (130.0, 125.0) for e in energies]
s = hs.signals.Signal1D(np.zeros(2000)); s.set_signal_type("EDS_TEM")
e = s.axes_manager[0]; e.scale, e.units = 0.01, "keV"
lines = {LINES!r}
energy = {{x: s._get_line_energy(x) for x in lines}}
iw = np.asarray(s.estimate_integration_windows(2.0, lines)).tolist()
bw = np.asarray(s.estimate_background_windows([2, 3], 1.5, xray_lines=lines)).tolist()
emit(dict(index=index, fwhm=fwhm, energies=energies, energy=energy, iw=iw, bw=bw))
""")


@pytest.mark.peer
def test_energy_to_index_is_hyperspys_value2index(peer):
    for i, (off, sc, n) in enumerate(AXES):
        ours = [energy_to_index(float(v), off, sc, n) for v in PROBES[i]]
        assert ours == peer["index"][str(i)]


@pytest.mark.peer
def test_fwhm_is_the_peers_formula(peer):
    ours = [fwhm_at_energy(r, e) for r in (130.0, 125.0) for e in peer["energies"]]
    # eXSpy's Mn Ka energy is 1.6 eV below xraydb's: that moves FWHM by under 0.05 eV
    # (2.5 x 1.6 eV^2 / (2 FWHM)), most at low energies where FWHM is smallest.
    np.testing.assert_allclose(ours, peer["fwhm"], rtol=0, atol=5e-5)


@pytest.mark.peer
def test_windows_match_the_peer_up_to_the_line_energies(peer):
    # Windows move with the line energy (and slightly with the FWHM there, hence 1e-4 keV).
    shift = max(abs(line_energy(x) - peer["energy"][x]) for x in LINES)
    np.testing.assert_allclose(integration_windows(LINES, 2.0), peer["iw"], atol=shift + 1e-4)
    np.testing.assert_allclose(background_windows(LINES, [2, 3], 1.5), peer["bw"], atol=shift + 5e-4)
    # The same lines are merged (Fe_Ka and Fe_Kb share windows here).
    ours = background_windows(LINES, [2, 3], 1.5)
    merged = [[bool(np.array_equal(a, b)) for b in ours] for a in ours]
    assert merged == [[a == b for b in peer["bw"]] for a in peer["bw"]]
    # In eV units everything scales by 1000.
    np.testing.assert_allclose(integration_windows(LINES, 2.0, units="eV"), integration_windows(LINES) * 1000)


def test_background_windows_of_close_lines_merge():
    # Fe_Kb sits 0.65 keV above Fe_Ka: with wide windows the right window of Ka passes the
    # left window of Kb, and both lines then share the outer windows.
    bw = background_windows(["Fe_Ka", "Fe_Kb"], [3, 3], 2)
    np.testing.assert_array_equal(bw[0], bw[1])
    assert bw[0, 0] < line_energy("Fe_Ka") < line_energy("Fe_Kb") < bw[0, 3]


def test_plan_clamps_integration_and_counts_background_as_exspy():
    # axis 0..1.99 step 0.01
    plan = plan_windows(np.array([[-0.5, 0.104], [1.5, 5.0]]), None, offset=0.0, scale=0.01, size=200)
    assert plan.ranges == ((0, 10), (150, 200))
    bw = np.array([[0.5, 0.6, 0.8, 0.84]])
    plan = plan_windows(np.array([[0.65, 0.75]]), bw, offset=0.0, scale=0.01, size=200)
    assert plan.ranges == ((65, 75), (50, 60), (80, 84))
    assert plan.factor == ((75 - 65) / ((60 - 50) + (84 - 80)),)
    # a background window whose ends fall on one channel is that channel
    plan = plan_windows(np.array([[0.65, 0.75]]), np.array([[0.5, 0.501, 0.8, 0.9]]), offset=0.0, scale=0.01,
                        size=200)
    assert plan.ranges[1] == (50, 51) and plan.factor == (10 / 10,)


def test_plan_bad_windows():
    with pytest.raises(XrayLineError, match="starts above the energy axis"):
        plan_windows(np.array([[3.0, 4.0]]), None, offset=0.0, scale=0.01, size=200, names=["Fe_Ka"])
    with pytest.raises(XrayLineError, match="Fe_Ka.*outside the energy axis"):
        plan_windows(np.array([[0.6, 0.7]]), np.array([[0.1, 0.2, 1.8, 2.5]]), offset=0.0, scale=0.01, size=200,
                     names=["Fe_Ka"])
    with pytest.raises(XrayLineError, match="single channels"):
        plan_windows(np.array([[0.6, 0.7]]), np.array([[0.5, 0.5, 0.8, 0.8]]), offset=0.0, scale=0.01, size=200)
    with pytest.raises(XrayLineError, match="'nm'"):
        integration_windows(["Fe_Ka"], units="nm")
    with pytest.raises(XrayLineError, match="two numbers"):
        background_windows(["Fe_Ka"], [2])
