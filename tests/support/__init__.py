"""Helpers the tests share: servers on loopback, worker processes, stream inspection, test
bots and activities, a recording Bot Connector. Fixtures stay in conftest.py."""
