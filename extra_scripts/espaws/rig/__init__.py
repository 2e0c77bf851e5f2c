"""The local test rig: development PKI, broker, probe and its native clients, demo."""
