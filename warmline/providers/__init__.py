"""Core glue for connectors that talk to a provider's API: readers and sign-in."""
