"""Deployments: per-target state, the event history, deploy and promote requests, rollouts,
routing, rendered targets and the clock."""
