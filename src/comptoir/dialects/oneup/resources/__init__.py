"""OneUp v1 resources (seeds/oneup-v1-resources.txt): fields, rendering and filters of each."""
