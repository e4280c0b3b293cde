"""Runtime bases as values: one module per base (its images, what it provides, how it adds users and packages)."""
