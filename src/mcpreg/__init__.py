"""mcpreg: an MCP server registry with releases, environments and rollouts."""

__version__ = "0.1.0"
