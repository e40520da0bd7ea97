"""The network edge: the Hub client adapter, retries and pacing, the link check, header reads, `add`."""
