"""The pages: Jinja2 templates rendered into Markdown for MkDocs, the `build` stage and the live preview."""
