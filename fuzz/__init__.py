"""``make fuzz``: schemathesis against a live mcpreg (see ``fuzz/run.py``)."""
