"""Release configuration: slots, values (variables and sealed secrets), and the effective configuration."""
