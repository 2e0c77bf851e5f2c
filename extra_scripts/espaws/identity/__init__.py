"""The identity pipeline: what one device needs on its filesystem."""
