# CodeCarbon's API version this package provides, and wattprint's own
__version__ = "3.3.0+wattprint.0.1.0"
