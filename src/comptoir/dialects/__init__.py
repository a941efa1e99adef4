"""The wire dialects. Each owns its paths, auth scheme, formats and errors, and calls services.
A dialect never imports another dialect, nor storage/."""
