"""The engine and the machine: the Docker client, the plugin's images and labels, network
namespaces, the machine-wide firewall lock, teardown and signals, and testinfra hosts."""
