"""The matcher's labelled evaluation set: its generator and its scorer."""
