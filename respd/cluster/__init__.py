"""Redis Cluster: slot map and node table (state), nodes.conf (config_file), the binary
cluster bus (bus), and request routing (routing)."""
