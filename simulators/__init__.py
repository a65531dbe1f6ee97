"""Faithful local simulators of TimeLog PSA's and Uniconta's public APIs, and the synthetic data generator.

Not imported by ``include/tlsync``: the product talks to these only over HTTP, exactly as to the real systems.
"""
