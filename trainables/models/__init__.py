"""Models by name: timm architectures adapted to small images, and our own small ones."""
