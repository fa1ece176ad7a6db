"""Plotting: navigator and signal figures for (lazy) signals, ROI widgets, figure collections."""
