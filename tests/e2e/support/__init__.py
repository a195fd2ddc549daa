"""Support code for the end-to-end scenarios: the stack, images, clients."""
