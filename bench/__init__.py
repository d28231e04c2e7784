"""The benchmark harness (`make bench`): the portal against floors measured in the same run."""
