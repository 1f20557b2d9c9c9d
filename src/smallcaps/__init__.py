"""smallcaps: does the small-cap rotation thesis hold? Public data, measured and backtested."""

__version__ = "0.1.0"
