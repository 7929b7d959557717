"""Installs the network guard (netguard.py) in every Python subprocess started with this folder on PYTHONPATH."""

import netguard

netguard.install()
