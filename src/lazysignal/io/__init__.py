"""Reading and writing files.

``load`` (:mod:`lazysignal.io.load`) and ``save`` (:mod:`lazysignal.io.save`) are the front
door; :mod:`lazysignal.io.registry` lists the format modules of :mod:`lazysignal.io.formats`;
:mod:`lazysignal.io.backends.chunked_file` is the data path binary formats share. This package module
imports none of them, so the data path can be used without the front door.
"""
