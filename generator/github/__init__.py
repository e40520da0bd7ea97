"""What speaks to GitHub: the rolling link-check issue and the snapshot pull request, over `gh` (gh.py)."""
