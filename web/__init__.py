"""The review site and JSON API.

NOTE: not built yet; the command line is the only face of the core so far.
"""
