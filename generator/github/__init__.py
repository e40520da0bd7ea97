"""What speaks to GitHub: the rolling link-check issue."""
