"""The data: YAML files read with their positions, validated into a Catalog; the Hub snapshot and its readers."""
