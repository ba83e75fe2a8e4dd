"""What the tests (and bench/) share that is not a test: flow drivers, fixtures, fakes."""
