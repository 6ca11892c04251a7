"""Stand-ins for the outside world and helpers shared by the tests."""
