import numpy as np
import pytest

from lazysignal.metadata import Metadata


def test_attribute_and_path_access():
    md = Metadata({"General": {"title": "a"}, "Signal": {"signal_type": ""}})
    assert md.General.title == "a" and md["General"]["title"] == "a"
    md.set_item("Acquisition_instrument.TEM.beam_energy", 200.0)
    assert md.get_item("Acquisition_instrument.TEM.beam_energy") == 200.0
    assert md.has_item("Acquisition_instrument.TEM") and not md.has_item("General.nothing")
    assert md.get_item("General.nothing", 5) == 5
    with pytest.raises(KeyError, match="General.nothing"):
        md.get_item("General.nothing")
    with pytest.raises(AttributeError, match="title"):
        md.General.tilte


def test_as_dictionary_is_a_deep_copy():
    md = Metadata({"a": {"b": [1, 2]}, "arr": np.arange(3)})
    d = md.as_dictionary()
    d["a"]["b"].append(3)
    assert md.a.b == [1, 2]
    assert md == Metadata(md.as_dictionary())
    copy = md.copy()
    copy.a.b = 0
    assert md.a.b == [1, 2]


def test_add_dictionary_merges():
    md = Metadata({"General": {"title": "a"}})
    md.add_dictionary({"General": {"date": "2020"}})
    assert md.as_dictionary() == {"General": {"title": "a", "date": "2020"}}
    del md.General.date
    assert not md.has_item("General.date")


def test_repr_is_a_tree():
    text = repr(Metadata({"General": {"title": "map"}}))
    assert "General" in text and "title = map" in text
