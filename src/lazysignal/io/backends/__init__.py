"""Data paths shared by several formats; no format lives here.

- :mod:`.chunked_file` — raw binary files (ripple, MRC, blockfile, MIB, npy): memory maps,
  positional reads and parallel writes of fixed-layout arrays.
- :mod:`.h5chunks` — HDF5 chunk reads outside HDF5's lock (hspy).
- :mod:`.zarr_chunks` — zarr v2 chunk reads and writes (zspy).
- :mod:`.chunk_grid` — the arithmetic of regular chunk grids shared by the two above.
- :mod:`.hierarchical` — the hspy/zspy group tree: signals, axes, metadata, learning results.
- :mod:`.metadata` — building readers' nested metadata dictionaries.
"""
