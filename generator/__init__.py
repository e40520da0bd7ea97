"""Lora Alchemy: YAML catalog -> validated data -> Hub check -> Markdown pages for MkDocs."""
