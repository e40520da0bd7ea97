"""The pages: Jinja2 templates rendered into Markdown for MkDocs, the `build` stage and the live preview.

Rendering is one straight line, each module importing only from those before it: ``filters`` (escaping,
sizes, numbers, code fences) → ``commands`` (shell commands) → ``setups`` (recipes per base model) →
``views`` (the records the templates place) → ``freshness`` ("data as of", weeks, templates versions) →
``context`` (every view, computed once per render) → ``catalog_json`` → ``feed`` (the Atom feed) → ``render``
(Jinja environment, page table, workers).
``build`` runs it and ``output`` writes docs/; ``serve`` rebuilds on change. Whether a LoRA fits a model and
what it was made for are :mod:`generator.catalog.fit`'s (one definition for every page and filter).
"""
