"""The MCP gateway: live MCP traffic routed per environment to the deployed version (issue 11)."""
